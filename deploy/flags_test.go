// Package deploy_test checks the deployment examples (deploy/, Dockerfile)
// against the binary they run: the flags and environment variables they
// give must be ones a0bulk reads.
package deploy_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/cli"
)

// commandFlags are a command's flags by name, and by environment variable.
type commandFlags struct {
	name  string
	flags map[string]ucli.Flag
	env   map[string]string // variable → flag name
}

func syncFlags(t *testing.T) commandFlags {
	t.Helper()
	app := cli.NewApp(cli.Test(nil, &bytes.Buffer{}, &bytes.Buffer{}))
	for _, c := range app.Commands {
		if c.Name != "sync" {
			continue
		}
		cf := commandFlags{name: "sync", flags: map[string]ucli.Flag{}, env: map[string]string{}}
		for _, f := range c.Flags {
			for _, n := range f.Names() {
				cf.flags[n] = f
			}
			if ev, ok := f.(interface{ GetEnvVars() []string }); ok {
				for _, e := range ev.GetEnvVars() {
					cf.env[e] = f.Names()[0]
				}
			}
		}
		return cf
	}
	t.Fatal("a0bulk has no sync command")
	return commandFlags{}
}

// check fails for any argument that is not a flag of the command (with
// its value), and returns the flags given.
func (cf commandFlags) check(t *testing.T, args []string) map[string]string {
	t.Helper()
	given := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			t.Errorf("a0bulk %s: unexpected argument %q (inputs go in --input)", cf.name, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f, ok := cf.flags[name]
		if !ok {
			t.Errorf("a0bulk %s has no flag --%s", cf.name, name)
			continue
		}
		if _, isBool := f.(*ucli.BoolFlag); !isBool && !hasValue {
			if i+1 >= len(args) {
				t.Errorf("--%s needs a value", name)
				break
			}
			i++
			value = args[i]
		}
		given[f.Names()[0]] = value
	}
	return given
}

func itoa(n int) string { return strconv.Itoa(n) }
