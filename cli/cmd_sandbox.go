package cli

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/sandbox"
	"github.com/a0bulk/a0bulk/words"
)

func sandboxCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{
		Name:  "sandbox",
		Usage: "serve a local Auth0 tenant on loopback (no account needed)",
		Description: `Speaks the Management API subset a0bulk uses, with the rate limits of an Auth0
plan (--plan, default essentials: per-endpoint buckets refilled in steps), the
2-job import limit, the 500 KB file limit, asynchronous jobs, realistic errors,
and optional faults. GET /sandbox/users and GET /sandbox/stats show what
happened (per-bucket counts in "buckets"). Any client id and secret are
accepted unless --client-id/--client-secret are given.

--rate (and --burst) replace the plan with one custom bucket for all of
/api/v2, refilled continuously; --rate 0 is unlimited. They cannot be
combined with --plan.

Examples:
   a0bulk sandbox                                       # 127.0.0.1:8787, Essentials limits
   a0bulk sandbox --plan enterprise --job-delay 5s
   a0bulk sandbox --rate 2 --burst 10                   # one custom bucket
   a0bulk sandbox --seed 7 --fault-5xx 0.1 --fault-reset-after 0.05 --fail-every-nth-job 3
   a0bulk sandbox --storm-start 1m --storm-duration 30s --token-reset-skip 1 --token-resets 2
   a0bulk sandbox --drain-bucket users_write --drain-start 10s --drain-duration 20s
   a0bulk sandbox --addr 127.0.0.1:0 --addr-file /tmp/sandbox.addr --users existing.ndjson
   a0bulk sandbox --lean --rate 0 --job-delay 25ms          # millions of users: make bench`,
		Flags: append(outputFlags(),
			&ucli.StringFlag{Name: "addr", Value: "127.0.0.1:8787", Usage: "loopback address to listen on (port 0 picks a free one)"},
			&ucli.StringFlag{Name: "addr-file", Usage: "write the address actually listened on to `FILE`"},
			&ucli.StringFlag{Name: "plan", Value: string(sandbox.PlanEssentials), Usage: "the rate limits of this Auth0 plan: " + planNames()},
			&ucli.Float64Flag{Name: "rate", DefaultText: "none: the plan's buckets", Usage: "instead of a plan: one custom bucket refilled at `N` requests per second (0 = unlimited)"},
			&ucli.IntFlag{Name: "burst", DefaultText: "the rate, rounded up", Usage: "the custom bucket's size"},
			&ucli.DurationFlag{Name: "job-delay", Value: 2 * time.Second, Usage: "an import job is pending this long, then processing this long; a verification job is pending this long"},
			&ucli.IntFlag{Name: "max-jobs", Value: 2, Usage: "concurrent import jobs per tenant"},
			&ucli.StringFlag{Name: "client-id", Usage: "accept only this client id"},
			&ucli.StringFlag{Name: "client-secret", Usage: "accept only this client secret"},
			&ucli.StringFlag{Name: "scopes", Usage: "scopes granted, space or comma separated (default: create:users read:users update:users read:connections)"},
			&ucli.StringSliceFlag{Name: "custom-domain", Usage: "a verified custom domain (repeatable; default login.example.com)"},
			&ucli.DurationFlag{Name: "token-lifetime", Value: 24 * time.Hour, Usage: "access token lifetime"},
			&ucli.StringFlag{Name: "users", Usage: "NDJSON `FILE` of users already in the tenant ({\"email\":…} per line, optionally a bcrypt \"password_hash\")"},
			&ucli.StringFlag{Name: "hash-export", Usage: "at start, write the tenant's password-hash export (Auth0 support's format) to `FILE` (0600, new); GET /sandbox/hash-export serves it later"},
			&ucli.BoolFlag{Name: "lean", Usage: "keep ~100 bytes per user (for benchmarks of millions): only ids, emails, connection, timestamps, verified/blocked; reads return users without profile attributes or metadata"},
			&ucli.BoolFlag{Name: "empty-errors-as-200", Usage: "answer a job without errors with 200 [] instead of 204"},
			&ucli.Int64Flag{Name: "seed", Value: 1, Usage: "fault seed: the same seed gives the same faults"},
			&ucli.Float64Flag{Name: "fault-5xx", Usage: "fraction of requests answered 503"},
			&ucli.Float64Flag{Name: "fault-reset-before", Usage: "fraction of POST/PATCH dropped before the tenant acts"},
			&ucli.Float64Flag{Name: "fault-reset-after", Usage: "fraction of POST/PATCH dropped after the tenant acted"},
			&ucli.DurationFlag{Name: "storm-start", Usage: "start of a 429 storm (every request refused, as if another client spent the bucket), after startup"},
			&ucli.DurationFlag{Name: "storm-duration", Usage: "length of the 429 storm"},
			&ucli.StringFlag{Name: "drain-bucket", Usage: "another client spends every token of this bucket (a name in /sandbox/stats \"buckets\", e.g. users_write)"},
			&ucli.DurationFlag{Name: "drain-start", Usage: "when the draining starts, after startup"},
			&ucli.DurationFlag{Name: "drain-duration", Usage: "how long the bucket stays drained"},
			&ucli.IntFlag{Name: "token-resets", Usage: "drop the connection of this many POST /oauth/token"},
			&ucli.IntFlag{Name: "token-reset-skip", Usage: "let this many token requests through before the resets (a refresh mid-run)"},
			&ucli.Float64Flag{Name: "fault-token-reset", Usage: "fraction of token requests (after the skipped ones) whose connection is dropped"},
			&ucli.IntFlag{Name: "fail-every-nth-job", Usage: "every Nth import job fails"},
			&ucli.Float64Flag{Name: "fault-verification-failed", Usage: "fraction of verification-email jobs that end failed"},
			&ucli.IntFlag{Name: "fault-expire-export-links", Usage: "the first `N` downloads of an export file find their link expired (403)"},
			&ucli.IntFlag{Name: "fault-drop-export-downloads", Usage: "the next `N` downloads of an export file are cut off halfway"},
			&ucli.IntFlag{Name: "hold-slots", Usage: "import slots held by someone else at startup"},
			&ucli.DurationFlag{Name: "hold-for", Usage: "how long those slots stay held"},
		),
		Action: func(c *ucli.Context) error {
			cfg, err := readSandboxConfig(c)
			if err != nil {
				return err
			}
			return serveSandbox(c.Context, s, c.String("addr"), c.String("addr-file"), cfg, c.String("users"), c.String("hash-export"))
		},
	}
}

func readSandboxConfig(c *ucli.Context) (sandbox.Config, error) {
	cfg := sandbox.Config{
		JobDelay: c.Duration("job-delay"),
		MaxJobs:  c.Int("max-jobs"), ClientID: c.String("client-id"), ClientSecret: c.String("client-secret"),
		TokenLifetime: c.Duration("token-lifetime"), EmptyErrorsAs200: c.Bool("empty-errors-as-200"), Lean: c.Bool("lean"),
		Faults: sandbox.Faults{
			Seed: c.Int64("seed"), Error5xx: c.Float64("fault-5xx"),
			ResetBefore: c.Float64("fault-reset-before"), ResetAfter: c.Float64("fault-reset-after"),
			StormStart: c.Duration("storm-start"), StormDuration: c.Duration("storm-duration"),
			FailEveryNthJob: c.Int("fail-every-nth-job"), FailVerification: c.Float64("fault-verification-failed"), HeldSlots: c.Int("hold-slots"), HeldFor: c.Duration("hold-for"),
			DrainBucket: c.String("drain-bucket"), DrainStart: c.Duration("drain-start"), DrainDuration: c.Duration("drain-duration"),
			TokenResets: c.Int("token-resets"), TokenResetSkip: c.Int("token-reset-skip"), TokenReset: c.Float64("fault-token-reset"),
			ExpireExportLinks: c.Int("fault-expire-export-links"), DropExportDownloads: c.Int("fault-drop-export-downloads"),
		},
	}
	if err := readSandboxLimits(c, &cfg); err != nil {
		return cfg, err
	}
	if c.String("hash-export") != "" {
		if cfg.Lean {
			return cfg, usagef("--hash-export needs the users' password hashes, which --lean does not keep")
		}
		cfg.KeepPasswordHashes = true
	}
	if scopes := c.String("scopes"); c.IsSet("scopes") {
		cfg.Scopes = strings.FieldsFunc(scopes, func(r rune) bool { return r == ' ' || r == ',' })
		if cfg.Scopes == nil {
			cfg.Scopes = []string{}
		}
	}
	if c.IsSet("custom-domain") {
		cfg.CustomDomains = c.StringSlice("custom-domain")
	}
	for _, f := range []string{"fault-5xx", "fault-reset-before", "fault-reset-after", "fault-verification-failed", "fault-token-reset"} {
		if v := c.Float64(f); v < 0 || v > 1 {
			return cfg, usagef("--%s must be a fraction between 0 and 1, got %v", f, v)
		}
	}
	if cfg.Faults.TokenResets < 0 || cfg.Faults.TokenResetSkip < 0 {
		return cfg, usagef("--token-resets and --token-reset-skip must not be negative")
	}
	if cfg.Faults.ExpireExportLinks < 0 || cfg.Faults.DropExportDownloads < 0 {
		return cfg, usagef("--fault-expire-export-links and --fault-drop-export-downloads must not be negative")
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usagef("%w", err)
	}
	return cfg, nil
}

// readSandboxLimits picks the tenant's rate limits: a custom bucket when
// --rate or --burst is given (never together with --plan), else the plan
// (essentials by default, a plan real tenants have).
func readSandboxLimits(c *ucli.Context, cfg *sandbox.Config) error {
	custom := c.IsSet("rate") || c.IsSet("burst")
	switch {
	case custom && c.IsSet("plan"):
		return usagef("--plan and --rate/--burst exclude each other: a plan has its own buckets")
	case c.IsSet("burst") && !c.IsSet("rate"):
		return usagef("--burst sizes the custom bucket of --rate: give --rate too")
	case custom:
		cfg.Rate, cfg.Burst = c.Float64("rate"), c.Int("burst")
		if cfg.Rate < 0 || cfg.Burst < 0 {
			return usagef("--rate and --burst must not be negative")
		}
		return nil
	}
	p, err := sandbox.ParsePlan(c.String("plan"))
	if err != nil {
		return usagef("--plan: %w", err)
	}
	cfg.Plan = p
	return nil
}

func planNames() string {
	var names []string
	for _, p := range sandbox.Plans() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}

// limitsLine says which rate limits the tenant has, so a user sees at
// once why the sandbox answers 429 (or never does).
func limitsLine(cfg sandbox.Config) string {
	switch {
	case cfg.Plan != "":
		return fmt.Sprintf("rate limits of the %s plan (per bucket in /sandbox/stats)", cfg.Plan)
	case cfg.Rate > 0:
		burst := cfg.Burst
		if burst == 0 {
			burst = int(math.Ceil(cfg.Rate))
		}
		return fmt.Sprintf("one custom bucket: burst %d, %v requests/s", burst, cfg.Rate)
	default:
		return "no rate limit"
	}
}

// serveSandbox checks the flags' address and users file (usage errors, exit
// 2), then serves the sandbox until ctx is done.
func serveSandbox(ctx context.Context, s *IOStreams, addr, addrFile string, cfg sandbox.Config, usersFile, hashExport string) error {
	if err := sandbox.CheckAddr(addr); err != nil {
		return usagef("--addr %q: %w", addr, err)
	}
	srv := sandbox.New(cfg)
	if usersFile != "" {
		if err := srv.SeedFile(usersFile); err != nil {
			return usagef("--users: %w", err)
		}
	}
	if hashExport != "" {
		n, err := srv.WriteHashExportFile(hashExport)
		if err != nil {
			return usagef("--hash-export: %w", err)
		}
		fmt.Fprintf(s.ErrOut, "a0bulk sandbox: wrote the password hashes of %s to %s (GET /sandbox/hash-export gives them for the users the tenant holds then)\n", words.Count(n, "user"), hashExport)
	}
	ln, err := sandbox.Listen(addr, addrFile)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.ErrOut, "a0bulk sandbox: %s\n", limitsLine(cfg))
	return sandbox.Serve(ctx, ln, srv, s.ErrOut)
}
