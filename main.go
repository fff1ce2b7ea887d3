// Command a0bulk moves users into an Auth0 tenant in bulk. See README.md.
package main

import (
	"os"

	"github.com/a0bulk/a0bulk/cli"
)

func main() {
	os.Exit(cli.Main(os.Args, cli.System()))
}
