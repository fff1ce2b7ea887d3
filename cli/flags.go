package cli

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
)

// Flags shared by several commands. Each command lists the groups it takes,
// so `a0bulk COMMAND --help` shows exactly what applies.

func outputFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", Usage: "result format: text or json", EnvVars: []string{"A0BULK_OUTPUT"}},
		&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only errors and the final summary"},
		&ucli.BoolFlag{Name: "no-progress", Usage: "never draw a progress bar (plain lines still go to stderr)"},
		&ucli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log every request (method, path, status, latency, rate-limit headers; never headers or bodies)", EnvVars: []string{"A0BULK_VERBOSE"}},
		&ucli.StringFlag{Name: "log-format", Value: "text", Usage: "log format on stderr: text or json", EnvVars: []string{"A0BULK_LOG_FORMAT"}},
	}
}

func tenantFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "domain", Usage: "tenant domain, e.g. acme.eu.auth0.com (host:port on loopback means plain HTTP)", EnvVars: []string{"AUTH0_DOMAIN"}},
		&ucli.StringFlag{Name: "client-id", Usage: "machine-to-machine application for the client-credentials grant", EnvVars: []string{"AUTH0_CLIENT_ID"}},
		&ucli.StringFlag{Name: "client-secret", Usage: "its secret (prefer --client-secret-file or the env variable)", EnvVars: []string{"AUTH0_CLIENT_SECRET"}},
		&ucli.StringFlag{Name: "client-secret-file", Usage: "read the client secret from `FILE`", EnvVars: []string{"AUTH0_CLIENT_SECRET_FILE"}},
		&ucli.StringFlag{Name: "token", Usage: "a ready Management API token instead of id/secret", EnvVars: []string{"AUTH0_TOKEN"}},
		&ucli.StringFlag{Name: "audience", Usage: "token audience (default https://DOMAIN/api/v2/)", EnvVars: []string{"AUTH0_AUDIENCE"}},
		&ucli.Float64Flag{Name: "rate", Usage: "cap requests per second (default: learn the tenant's limit from its x-ratelimit headers)", EnvVars: []string{"A0BULK_RATE"}},
		&ucli.IntFlag{Name: "max-retries", Value: run.DefaultMaxRetries, Usage: "retries per request after a 5xx answer (429s and connection errors are waited out for --max-wait)", EnvVars: []string{"A0BULK_MAX_RETRIES"}},
		&ucli.DurationFlag{Name: "max-wait", Value: time.Duration(run.Defaults().MaxWait), Usage: "how long continuous refusal by the tenant (429s, connection errors) is waited out before the run stops resumably; 0: not at all", EnvVars: []string{"A0BULK_MAX_WAIT"}},
	}
}

// confirmFlags are the flags of the commands that write to a tenant.
func confirmFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask for confirmation on a terminal before writing to the tenant (never asked off a terminal)", EnvVars: []string{"A0BULK_YES"}},
	}
}

func inputFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringSliceFlag{Name: "input", Aliases: []string{"i"}, Usage: "input `FILE` (repeatable; - or none reads stdin)"},
		&ucli.StringFlag{Name: "format", Usage: "csv, json or ndjson (default: from the extension)"},
		&ucli.StringFlag{Name: "map", Usage: "JSON `FILE` renaming source columns (CSV) or top-level properties (JSON, NDJSON) to schema fields"},
		&ucli.StringFlag{Name: "delimiter", Usage: "CSV field delimiter: one character such as ; or the word tab (default: detected from the header: comma, semicolon or tab)"},
	}
}

// globalOptions are the output settings every command shares.
type globalOptions struct {
	JSON       bool
	Quiet      bool
	NoProgress bool
	Verbose    bool
	LogJSON    bool
}

// setIn finds the context that set a flag: the command's own, else the app's
// (the contract's global flags may stand before the command name), else the
// command's, for its default.
func setIn(c *ucli.Context, name string) *ucli.Context {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet(name) {
			return ctx
		}
	}
	return c
}

func readGlobal(c *ucli.Context) (globalOptions, error) {
	var g globalOptions
	switch out := setIn(c, "output").String("output"); out {
	case "text", "":
	case "json":
		g.JSON = true
	default:
		return g, usagef("--output must be text or json, not %q", out)
	}
	switch lf := setIn(c, "log-format").String("log-format"); lf {
	case "text", "":
	case "json":
		g.LogJSON = true
	default:
		return g, usagef("--log-format must be text or json, not %q", lf)
	}
	g.Quiet = setIn(c, "quiet").Bool("quiet")
	g.NoProgress = setIn(c, "no-progress").Bool("no-progress")
	g.Verbose = setIn(c, "verbose").Bool("verbose")
	return g, nil
}

// logger builds the stderr logger. Logs never carry secrets: the client
// redacts at the source, this only chooses the shape.
func (g globalOptions) logger(s *IOStreams) *slog.Logger {
	level := slog.LevelInfo
	if g.Verbose {
		level = slog.LevelDebug
	} else if g.Quiet {
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	if g.LogJSON {
		return slog.New(slog.NewJSONHandler(s.ErrOut, opts))
	}
	return slog.New(slog.NewTextHandler(s.ErrOut, opts))
}

func oneOf(name, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return usagef("--%s must be one of %s, not %q", name, strings.Join(allowed, ", "), v)
}

func positiveInt(name string, v int) error {
	if v <= 0 {
		return usagef("--%s must be positive, got %d", name, v)
	}
	return nil
}

// Tuning beyond what Auth0 allows is refused (exit 2) when no value could
// work, and clamped with a warning when a smaller one does the same job
// (auth0-facts.md):
//
//	--chunk-bytes   3..512000: a file over 500 KB is refused by Auth0 (413); refused
//	--max-jobs      1..2: a tenant runs at most 2 import jobs, a third is refused
//	                with 429; ≤ 0 refused, more clamped to 2
//	--slot-wait     > 0; refused otherwise
//	--concurrency   1..50: 50 is the largest burst Auth0 publishes (Enterprise),
//	                more requests in flight only wait; ≤ 0 refused, more clamped
//	--rate          > 0 when given (leave it out to learn the tenant's rate);
//	                --max-retries ≥ 0; --max-wait ≥ 0 (readTenant)
const (
	maxImportJobs  = 2  // a tenant's running import jobs (auth0-facts.md)
	maxConcurrency = 50 // the largest published bucket burst (Enterprise)
)

// tuneSettings refuses or clamps st's tuning for mode, telling warn what it
// clamped.
func tuneSettings(mode run.Mode, st *report.Settings, warn io.Writer) error {
	imports := mode == run.ModeImport || (mode == run.ModeSync && st.SyncMode == string(run.ModeImport))
	creates := mode == run.ModeCreate || (mode == run.ModeSync && st.SyncMode == string(run.ModeCreate))
	if imports {
		if st.ChunkBytes <= 2 || st.ChunkBytes > maxImportFile {
			return usagef("--chunk-bytes must be between 3 and %d (Auth0 refuses an import file over 500 KB), got %d", maxImportFile, st.ChunkBytes)
		}
		if err := positiveInt("max-jobs", st.MaxJobs); err != nil {
			return err
		}
		if st.MaxJobs > maxImportJobs {
			fmt.Fprintf(warn, "a0bulk: warning: --max-jobs %d: Auth0 runs at most %d import jobs per tenant (a third is refused), so %d are used\n", st.MaxJobs, maxImportJobs, maxImportJobs)
			st.MaxJobs = maxImportJobs
		}
		if st.SlotWait <= 0 {
			return usagef("--slot-wait must be positive, got %s", time.Duration(st.SlotWait))
		}
	}
	if creates {
		c, err := clampConcurrency(st.Concurrency, warn)
		st.Concurrency = c
		return err
	}
	return nil
}

// clampConcurrency refuses no concurrency and clamps more than any tenant
// can take at once.
func clampConcurrency(n int, warn io.Writer) (int, error) {
	if err := positiveInt("concurrency", n); err != nil {
		return n, err
	}
	if n > maxConcurrency {
		fmt.Fprintf(warn, "a0bulk: warning: --concurrency %d: no Auth0 plan takes more than %d requests at once (its largest burst), so %d are used\n", n, maxConcurrency, maxConcurrency)
		return maxConcurrency, nil
	}
	return n, nil
}
