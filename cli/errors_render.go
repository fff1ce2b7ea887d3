package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/preflight"
)

// renderError is the text Main prints for a run's error: the error itself
// plus, when the tenant said why in a way an operator can act on, what to do.
// A 403 insufficient_scope names the missing scope and where it is granted,
// not just "forbidden"; a refused token points at the credentials. It never
// adds anything secret: the hints are fixed text and scope names.
func renderError(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if hint := errorHint(err); hint != "" {
		msg += "\n  " + hint
	}
	return msg
}

func errorHint(err error) string {
	if e, ok := management.AsAPIError(err); ok {
		if scope, ok := e.MissingScope(); ok {
			if scope == "" {
				return "the token lacks a scope the tenant did not name; run a0bulk check to see which scopes this command needs"
			}
			return fmt.Sprintf("fix: %s (a0bulk check --for COMMAND lists every scope a command needs)", preflight.GrantScopesFix([]string{scope}, ""))
		}
		if e.IsUnauthorized() {
			return "the tenant refused the token; run a0bulk check to see why"
		}
	}
	var te *management.TokenError
	if errors.As(err, &te) {
		if te.StatusCode == 0 {
			return "the tenant did not answer; check --domain and the network (a0bulk check)"
		}
		return "fix: " + preflight.TokenFix(te)
	}
	var nf *management.ConnectionNotFoundError
	if errors.As(err, &nf) && len(nf.Database) > 0 {
		return "--connection takes a database connection's exact name (case matters), as listed"
	}
	return ""
}

// errorJSON is an error as --output json prints it on stdout, when the run
// printed nothing there (it stopped before its summary): scripts parse one
// JSON document either way.
type errorJSON struct {
	Error    string `json:"error"`
	ExitCode int    `json:"exit_code"`
	Hint     string `json:"hint"`
	// DatabaseConnections lists the tenant's database connections when
	// --connection named none of its connections.
	DatabaseConnections []string `json:"database_connections,omitempty"`
}

func newErrorJSON(err error, code int, command string) errorJSON {
	e := errorJSON{Error: err.Error(), ExitCode: code, Hint: errorHint(err)}
	var nf *management.ConnectionNotFoundError
	if errors.As(err, &nf) {
		e.DatabaseConnections = nf.Database
	}
	if e.Hint == "" {
		e.Hint = codeHint(code, command)
	}
	return e
}

// codeHint is what to do about an error that has no better hint, by its
// exit code.
func codeHint(code int, command string) string {
	help := "a0bulk help"
	if command != "" {
		help += " " + command
	}
	switch code {
	case ExitUsage:
		return "nothing was sent to the tenant; fix the flags or the configuration (" + help + ")"
	case ExitInterrupted, ExitTerminated:
		return "stopped by a signal; run the command again, or resume its report with --resume"
	}
	return "the run could not complete; fix the cause and run the command again (a0bulk check tests the credentials and the tenant)"
}

// wantsJSON reports whether args (or A0BULK_OUTPUT, which a config file may
// have set) ask for --output json. Main needs to know it even when the flags
// did not parse; the last --output given wins, as urfave's does.
func wantsJSON(args []string) bool {
	out := os.Getenv("A0BULK_OUTPUT")
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || (name != "output" && name != "o") {
			continue
		}
		if !hasValue && i+1 < len(args) {
			i++
			value = args[i]
		}
		out = value
	}
	return out == "json"
}

// commandOf is the command args name (their first word that is one), for
// hints.
func commandOf(args []string, commands []string) string {
	for _, a := range args[min(1, len(args)):] {
		for _, c := range commands {
			if a == c {
				return c
			}
		}
	}
	return ""
}

// countingWriter tells Main whether anything reached stdout.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
