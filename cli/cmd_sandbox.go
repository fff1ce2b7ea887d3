package cli

import (
	"context"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/sandbox"
)

func sandboxCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{
		Name:  "sandbox",
		Usage: "serve a local Auth0 tenant on loopback (no account needed)",
		Description: `Speaks the Management API subset a0bulk uses, with Auth0's rate limits, the
2-job import limit, the 500 KB file limit, asynchronous jobs, realistic errors,
and optional faults. GET /sandbox/users and GET /sandbox/stats show what
happened. Any client id and secret are accepted unless --client-id/--client-secret
are given.

Examples:
   a0bulk sandbox                                       # 127.0.0.1:8787
   a0bulk sandbox --rate 2 --burst 10 --job-delay 5s
   a0bulk sandbox --seed 7 --fault-5xx 0.1 --fault-reset-after 0.05 --fail-every-nth-job 3
   a0bulk sandbox --addr 127.0.0.1:0 --addr-file /tmp/sandbox.addr --users existing.ndjson`,
		Flags: append(outputFlags(),
			&ucli.StringFlag{Name: "addr", Value: "127.0.0.1:8787", Usage: "loopback address to listen on (port 0 picks a free one)"},
			&ucli.StringFlag{Name: "addr-file", Usage: "write the address actually listened on to `FILE`"},
			&ucli.Float64Flag{Name: "rate", Value: 20, Usage: "Management API requests per second (token bucket refill; 0 = unlimited)"},
			&ucli.IntFlag{Name: "burst", Value: 40, Usage: "token bucket size"},
			&ucli.DurationFlag{Name: "job-delay", Value: 2 * time.Second, Usage: "an import job is pending this long, then processing this long; a verification job is pending this long"},
			&ucli.IntFlag{Name: "max-jobs", Value: 2, Usage: "concurrent import jobs per tenant"},
			&ucli.StringFlag{Name: "client-id", Usage: "accept only this client id"},
			&ucli.StringFlag{Name: "client-secret", Usage: "accept only this client secret"},
			&ucli.StringFlag{Name: "scopes", Usage: "scopes granted, space or comma separated (default: create:users read:users update:users read:connections)"},
			&ucli.StringSliceFlag{Name: "custom-domain", Usage: "a verified custom domain (repeatable; default login.example.com)"},
			&ucli.DurationFlag{Name: "token-lifetime", Value: 24 * time.Hour, Usage: "access token lifetime"},
			&ucli.StringFlag{Name: "users", Usage: "NDJSON `FILE` of users already in the tenant ({\"email\":…} per line)"},
			&ucli.BoolFlag{Name: "empty-errors-as-200", Usage: "answer a job without errors with 200 [] instead of 204"},
			&ucli.Int64Flag{Name: "seed", Value: 1, Usage: "fault seed: the same seed gives the same faults"},
			&ucli.Float64Flag{Name: "fault-5xx", Usage: "fraction of requests answered 503"},
			&ucli.Float64Flag{Name: "fault-reset-before", Usage: "fraction of POST/PATCH dropped before the tenant acts"},
			&ucli.Float64Flag{Name: "fault-reset-after", Usage: "fraction of POST/PATCH dropped after the tenant acted"},
			&ucli.DurationFlag{Name: "storm-start", Usage: "start of a 429 storm, after startup"},
			&ucli.DurationFlag{Name: "storm-duration", Usage: "length of the 429 storm"},
			&ucli.IntFlag{Name: "fail-every-nth-job", Usage: "every Nth import job fails"},
			&ucli.Float64Flag{Name: "fault-verification-failed", Usage: "fraction of verification-email jobs that end failed"},
			&ucli.IntFlag{Name: "hold-slots", Usage: "import slots held by someone else at startup"},
			&ucli.DurationFlag{Name: "hold-for", Usage: "how long those slots stay held"},
		),
		Action: func(c *ucli.Context) error {
			cfg, err := readSandboxConfig(c)
			if err != nil {
				return err
			}
			return serveSandbox(c.Context, s, c.String("addr"), c.String("addr-file"), cfg, c.String("users"))
		},
	}
}

func readSandboxConfig(c *ucli.Context) (sandbox.Config, error) {
	cfg := sandbox.Config{
		Rate: c.Float64("rate"), Burst: c.Int("burst"), JobDelay: c.Duration("job-delay"),
		MaxJobs: c.Int("max-jobs"), ClientID: c.String("client-id"), ClientSecret: c.String("client-secret"),
		TokenLifetime: c.Duration("token-lifetime"), EmptyErrorsAs200: c.Bool("empty-errors-as-200"),
		Faults: sandbox.Faults{
			Seed: c.Int64("seed"), Error5xx: c.Float64("fault-5xx"),
			ResetBefore: c.Float64("fault-reset-before"), ResetAfter: c.Float64("fault-reset-after"),
			StormStart: c.Duration("storm-start"), StormDuration: c.Duration("storm-duration"),
			FailEveryNthJob: c.Int("fail-every-nth-job"), FailVerification: c.Float64("fault-verification-failed"), HeldSlots: c.Int("hold-slots"), HeldFor: c.Duration("hold-for"),
		},
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
	for _, f := range []string{"fault-5xx", "fault-reset-before", "fault-reset-after", "fault-verification-failed"} {
		if v := c.Float64(f); v < 0 || v > 1 {
			return cfg, usagef("--%s must be a fraction between 0 and 1, got %v", f, v)
		}
	}
	if cfg.Rate < 0 || cfg.Burst < 0 {
		return cfg, usagef("--rate and --burst must not be negative")
	}
	return cfg, nil
}

// serveSandbox checks the flags' address and users file (usage errors, exit
// 2), then serves the sandbox until ctx is done.
func serveSandbox(ctx context.Context, s *IOStreams, addr, addrFile string, cfg sandbox.Config, usersFile string) error {
	if err := sandbox.CheckAddr(addr); err != nil {
		return usagef("--addr %q: %w", addr, err)
	}
	srv := sandbox.New(cfg)
	if usersFile != "" {
		if err := srv.SeedFile(usersFile); err != nil {
			return usagef("--users: %w", err)
		}
	}
	ln, err := sandbox.Listen(addr, addrFile)
	if err != nil {
		return err
	}
	return sandbox.Serve(ctx, ln, srv, s.ErrOut)
}
