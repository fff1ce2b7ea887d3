package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/alitto/pond/v2"
	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/pipeline"
	"github.com/a0bulk/a0bulk/report"
)

// verifyOptions are the flags of `a0bulk verify`. With --from-report the
// users come from a finished run (the ones it created or imported whose email
// is not verified) and the lines are appended to that report; with --input
// they come from a file and a new report is written.
type verifyOptions struct {
	tenant      tenantOptions
	input       inputOptions
	FromReport  string
	ReportPath  string
	AppClientID string
	Concurrency int
}

func verifyCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{
		Name:  "verify",
		Usage: "send verification emails (POST /api/v2/jobs/verification-email), one per user",
		Description: `Sends a verification email to each user a run created or imported whose email
is not verified (--report RUN_REPORT: the lines are appended to that report, and
a second run skips users already sent), or to each user of --input (a new
report is written to --out, default a0bulk-verify-TIME.ndjson). Imported users
are looked up by email.

Examples:
   a0bulk verify --report a0bulk-import-20261125T100000Z.ndjson --app-client-id abc123
   a0bulk verify --input users.csv --custom-domain login.acme.com`,
		Flags: concat(tenantFlags(), inputFlags(), outputFlags(), []ucli.Flag{
			&ucli.StringFlag{Name: "report", Usage: "the `REPORT` of an import or create run to verify (lines are appended to it)"},
			&ucli.StringFlag{Name: "out", Usage: "report `FILE` for --input runs"},
			&ucli.StringFlag{Name: "resume", Usage: "continue a verify run (same as --report on that report)"},
			&ucli.StringFlag{Name: "custom-domain", Usage: "send Auth0-Custom-Domain: `HOST` with each verification email", EnvVars: []string{"AUTH0_CUSTOM_DOMAIN"}},
			&ucli.StringFlag{Name: "app-client-id", Usage: "application whose email template and links the email uses"},
			&ucli.IntFlag{Name: "concurrency", Value: 4, Usage: "requests in flight at once"},
		}),
		Action: func(c *ucli.Context) error {
			g, err := readGlobal(c)
			if err != nil {
				return err
			}
			o := verifyOptions{FromReport: c.String("report"), ReportPath: c.String("out"), AppClientID: c.String("app-client-id"), Concurrency: c.Int("concurrency")}
			if r := c.String("resume"); r != "" {
				if o.FromReport != "" {
					return usagef("give --report or --resume, not both")
				}
				o.FromReport = r
			}
			if err := positiveInt("concurrency", o.Concurrency); err != nil {
				return err
			}
			inputs := c.StringSlice("input")
			switch {
			case o.FromReport != "" && len(inputs) > 0:
				return usagef("give --report (a run to verify) or --input, not both")
			case o.FromReport == "" && len(inputs) == 0:
				return usagef("give --report RUN_REPORT or --input FILE")
			}
			if o.FromReport == "" {
				if o.input, err = readInputOptions(inputs, c.String("format"), c.String("map"), input.ModeImport); err != nil {
					return err
				}
			}
			if o.tenant, err = readTenant(c, s); err != nil {
				return err
			}
			return runVerify(c.Context, s, g, o)
		},
	}
}

// verifyTarget is one user to send a verification email to.
type verifyTarget struct {
	key    report.Key
	email  string
	userID string
}

func runVerify(ctx context.Context, s *IOStreams, g globalOptions, o verifyOptions) error {
	log := g.logger(s)
	var (
		journal *report.Writer
		targets func(func(verifyTarget) error) error
		err     error
	)
	if o.FromReport != "" {
		journal, targets, err = verifyFromReport(ctx, s, o.FromReport)
	} else {
		journal, targets, err = verifyFromInput(ctx, s, o)
	}
	if err != nil {
		return err
	}
	defer journal.Close()
	client, err := o.tenant.client(log, g.Verbose)
	if err != nil {
		return err
	}
	v := &jobs.Verifier{API: client, Journal: journal, ClientID: o.AppClientID}

	prog := newProgress(s, g, "verify", 0, nil)
	journal.Observe(prog.Observe)
	defer prog.Stop()

	workCtx, stopWork := graceContext(ctx, 10*time.Second)
	defer stopWork()
	pool := pond.NewPool(o.Concurrency, pond.WithQueueSize(o.Concurrency))
	var (
		mu    sync.Mutex
		fatal error
	)
	stopped := func() error { mu.Lock(); defer mu.Unlock(); return fatal }
	readErr := targets(func(t verifyTarget) error {
		if err := stopped(); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		prog.RecordRead()
		pool.Submit(func() {
			// Queued work does not start after a signal or a fatal answer.
			if stopped() != nil || ctx.Err() != nil {
				return
			}
			if err := v.Send(workCtx, t.key, t.email, t.userID); err != nil {
				mu.Lock()
				if fatal == nil {
					fatal = err
				}
				mu.Unlock()
			}
		})
		return nil
	})
	pool.StopAndWait()
	prog.Stop()

	t := journal.Tally()
	sum := newRunSummary("verify", journal.Path(), t, prog)
	sum.Verified = &verifyCounts{Sent: t.VerificationSent, Failed: t.VerificationFailed}
	// The exit code speaks of this verify only: a report of an import that
	// had invalid rows must not make every later verify exit 3.
	invalid := 0
	if o.FromReport == "" {
		invalid = t.Final[report.Invalid]
	}
	sum.outcomeOf = func(runSummary) error {
		if invalid+t.VerificationFailed > 0 {
			return &IncompleteError{Invalid: invalid, Failed: t.VerificationFailed}
		}
		return nil
	}
	fatalErr := stopped()
	var cd *jobs.CustomDomainError
	if errors.As(fatalErr, &cd) {
		fatalErr = fmt.Errorf("the tenant refused the custom domain, stopping: %w", fatalErr)
	}
	return finishRun(ctx, s, g, journal, sum, "a0bulk verify --report "+journal.Path(), readErr, fatalErr)
}

// verifyFromReport picks the users a run created, imported or updated whose
// email is not verified (re-reading the source for email_verified), or, for
// the report of an earlier verify --input run, every user it has not yet
// sent; users that already have a verification_sent line are skipped.
func verifyFromReport(ctx context.Context, s *IOStreams, path string) (*report.Writer, func(func(verifyTarget) error) error, error) {
	st, err := report.Load(path)
	if err != nil {
		return nil, nil, usagef("--report %s: %w", path, err)
	}
	h := st.Header
	switch h.Mode {
	case "import", "create", "sync", "verify":
	default:
		return nil, nil, usagef("--report %s is a %s report; give the report of an import, create, sync or verify run", path, h.Mode)
	}
	var paths []string
	for _, in := range h.Inputs {
		paths = append(paths, in.Path)
	}
	in, err := readInputOptions(paths, h.Extra["format"], h.Extra["map"], inputMode(h))
	if err != nil {
		return nil, nil, err
	}
	// email_verified is read at the recorded file:line: it must still be
	// the record the run saw there.
	inputs, err := in.hashInputs()
	if err != nil {
		return nil, nil, err
	}
	now := h
	now.Inputs = inputs
	if err := h.Check(now); err != nil {
		return nil, nil, usagef("--report %s: the inputs changed since the run: %w", path, err)
	}
	journal, _, err := report.Append(path, clock.Real{})
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s: %w", path, err)
	}
	targets := func(fn func(verifyTarget) error) error {
		return in.stream(ctx, s, nil, func(rec input.Record) error {
			k := report.Key{File: rec.File, Line: rec.Line}
			switch v := st.Verified[k]; v.Status {
			case report.VerificationSent:
				return nil
			case report.VerificationSending:
				// An earlier run sent it and stopped before the answer:
				// sending again could email the user twice.
				return journal.Record(report.Entry{
					File: k.File, Line: k.Line, Email: v.Email, UserID: v.UserID, Status: report.VerificationFailed,
					Code: jobs.CodeUnknownFate, Reason: "the run stopped after sending this email and before its answer: it may have been sent, so it is not sent again (run verify once more to resend)",
				})
			}
			if h.Mode == "verify" {
				if !rec.Valid() {
					return nil // reported invalid by the first run
				}
				return fn(verifyTarget{key: k, email: rec.User.Email, userID: providerID(rec.User.UserID)})
			}
			final, ok := st.Final[k]
			if !ok || (final.Status != report.Created && final.Status != report.Imported && final.Status != report.Updated) {
				return nil
			}
			if rec.User.EmailVerified != nil && *rec.User.EmailVerified {
				return nil
			}
			return fn(verifyTarget{key: k, email: final.Email, userID: final.UserID})
		})
	}
	return journal, targets, nil
}

// providerID keeps a user id that names its provider ("auth0|…"); an
// import-schema id lacks it, and the user is then looked up by email.
func providerID(id string) string {
	if strings.Contains(id, "|") {
		return id
	}
	return ""
}

func verifyFromInput(ctx context.Context, s *IOStreams, o verifyOptions) (*report.Writer, func(func(verifyTarget) error) error, error) {
	journal, _, err := openJournal(runMeaning{Mode: "verify"}, o.input, map[string]string{"format": o.input.Format, "map": o.input.MapFile}, o.ReportPath, nil, clock.Real{})
	if err != nil {
		return nil, nil, err
	}
	targets := func(fn func(verifyTarget) error) error {
		return o.input.stream(ctx, s, nil, func(rec input.Record) error {
			if !rec.Valid() {
				return journal.Record(pipeline.InvalidEntry(rec))
			}
			return fn(verifyTarget{key: report.Key{File: rec.File, Line: rec.Line}, email: rec.User.Email, userID: providerID(rec.User.UserID)})
		})
	}
	return journal, targets, nil
}
