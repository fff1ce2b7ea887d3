package cli

import (
	"context"
	"fmt"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/create"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/pipeline"
)

// createOptions are the flags of `a0bulk create`.
type createOptions struct {
	runOptions
	RandomPassword bool
	VerifyEmail    bool
	AppClientID    string
	Concurrency    int
}

func createCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{
		Name:  "create",
		Usage: "create users one by one (POST /api/v2/users), throttled to the tenant's rate limit",
		Description: `Creates each user with POST /api/v2/users through a worker pool that never
outruns the tenant's rate limit. A user that exists is skipped, or updated with
--upsert. No user is emailed unless --verify-email is given.

Examples:
   a0bulk create --connection Username-Password-Authentication --input users.csv --random-password
   a0bulk create --connection DB --input users.ndjson --upsert --concurrency 8 --rate 10
   a0bulk create --connection DB --input users.csv --verify-email --custom-domain login.acme.com
   a0bulk create --resume a0bulk-create-20261125T100000Z.ndjson`,
		Flags: concat(tenantFlags(), inputFlags(), outputFlags(), []ucli.Flag{
			&ucli.StringFlag{Name: "connection", Usage: "database connection `NAME`", EnvVars: []string{"A0BULK_CONNECTION"}},
			&ucli.BoolFlag{Name: "upsert", Usage: "update users that already exist (PATCH what the input sets)"},
			&ucli.BoolFlag{Name: "random-password", Usage: "give users without a password a strong random one (never written anywhere)"},
			&ucli.IntFlag{Name: "concurrency", Value: 8, Usage: "requests in flight at once"},
			&ucli.BoolFlag{Name: "verify-email", Usage: "send a verification email to each created user whose email is not verified"},
			&ucli.StringFlag{Name: "custom-domain", Usage: "send Auth0-Custom-Domain: `HOST` on create and verification requests", EnvVars: []string{"AUTH0_CUSTOM_DOMAIN"}},
			&ucli.StringFlag{Name: "app-client-id", Usage: "application whose settings the verification email uses"},
			&ucli.StringFlag{Name: "report", Usage: "report `FILE` (default a0bulk-create-TIME.ndjson)"},
			&ucli.StringFlag{Name: "resume", Usage: "continue the run recorded in `REPORT`"},
			&ucli.BoolFlag{Name: "dry-run", Usage: "validate and estimate the duration; send nothing but the connection lookup"},
		}),
		Action: func(c *ucli.Context) error {
			g, err := readGlobal(c)
			if err != nil {
				return err
			}
			o, err := readCreateOptions(c, s)
			if err != nil {
				return err
			}
			if o.DryRun {
				return runDryCreate(c.Context, s, g, o)
			}
			return runCreate(c.Context, s, g, o)
		},
	}
}

func readCreateOptions(c *ucli.Context, s *IOStreams) (createOptions, error) {
	run, err := readRunOptions(c, s, "create", input.ModeCreate)
	if err != nil {
		return createOptions{}, err
	}
	o := createOptions{
		runOptions:     run,
		RandomPassword: c.Bool("random-password"),
		VerifyEmail:    c.Bool("verify-email"),
		AppClientID:    c.String("app-client-id"),
		Concurrency:    c.Int("concurrency"),
	}
	return o, positiveInt("concurrency", o.Concurrency)
}

func runCreate(ctx context.Context, s *IOStreams, g globalOptions, o createOptions) error {
	log := g.logger(s)
	client, err := o.tenant.client(log, g.Verbose)
	if err != nil {
		return err
	}
	jp, err := planJournal(o.meaning, o.input, o.extra, o.ReportPath, o.Resume, clock.Real{})
	if err != nil {
		return err
	}
	conn, err := databaseConnection(ctx, client, o.meaning.Connection)
	if err != nil {
		return err
	}
	started := jp.startFrom(client)
	journal, state, err := jp.open()
	if err != nil {
		return err
	}
	defer journal.Close()

	counter := &byteCounter{}
	prog := newProgress(s, g, "create", o.input.totalBytes(), counter.Load)
	journal.Observe(prog.Observe)
	defer prog.Stop()

	// A resumed run keeps the original start: a user whose create was in
	// flight when the earlier run died was created after it, and is ours.
	plan := newResumePlan(state)
	runner := &create.Runner{
		API: client, Journal: journal, Clock: clock.Real{},
		Connection: conn.Name, Upsert: o.meaning.Upsert, RandomPassword: o.RandomPassword,
		Concurrency: o.Concurrency, RunStarted: started, VerifyEmail: o.VerifyEmail,
		WasSending: plan.wasSending,
	}
	if o.VerifyEmail {
		runner.Verifier = &jobs.Verifier{API: client, Journal: journal, ClientID: o.AppClientID}
	}

	workCtx, stopWork := graceContext(ctx, 10*time.Second)
	defer stopWork()
	readErr, runErr := pipeline.Create{
		Source: o.input.source(s, counter), Runner: runner,
		Admit: plan.admit, OnRead: prog.RecordRead,
	}.Run(ctx, workCtx)
	prog.Stop()
	sum := newRunSummary("create", journal.Path(), journal.Tally(), prog)
	return finishRun(ctx, s, g, journal, sum, resumeHint("create", journal.Path()), readErr, runErr)
}

// createPlan is what `create --dry-run` prints.
type createPlan struct {
	Records    int             `json:"records"`
	Valid      int             `json:"valid"`
	Invalid    int             `json:"invalid"`
	Requests   int             `json:"requests"`
	Rate       float64         `json:"rate_per_second"`
	RateSource string          `json:"rate_source"`
	Duration   string          `json:"estimated_duration"`
	Connection string          `json:"connection"`
	Problems   []recordProblem `json:"invalid_records,omitempty"`
}

func runDryCreate(ctx context.Context, s *IOStreams, g globalOptions, o createOptions) error {
	plan := &createPlan{}
	err := o.input.stream(ctx, s, nil, func(rec input.Record) error {
		plan.Records++
		if rec.Password == "" && !o.RandomPassword && rec.Valid() {
			rec.Errors = append(rec.Errors, input.FieldError{Field: "password", Reason: "required for a database connection (or use --random-password)"})
		}
		if !rec.Valid() {
			plan.Invalid++
			if len(plan.Problems) < maxListedProblems {
				plan.Problems = append(plan.Problems, recordProblem{File: rec.File, Line: rec.Line, Reason: pipeline.Describe(rec.Errors)})
			}
			return nil
		}
		plan.Valid++
		return nil
	})
	if err != nil {
		return err
	}
	client, described, err := dryRunConnection(ctx, s, g, o.tenant, o.meaning.Connection)
	if err != nil {
		return err
	}
	plan.Connection = described
	plan.Requests = plan.Valid
	if o.VerifyEmail {
		plan.Requests *= 2
	}
	plan.Rate, plan.RateSource = estimateRate(o.tenant.Rate, client)
	plan.Duration = (time.Duration(float64(plan.Requests)/plan.Rate*float64(time.Second)) + time.Second - 1).Truncate(time.Second).String()
	if g.JSON {
		if err := printJSON(s.Out, plan); err != nil {
			return err
		}
	} else {
		for _, p := range plan.Problems {
			fmt.Fprintf(s.Out, "%s:%d: %s\n", p.File, p.Line, p.Reason)
		}
		fmt.Fprintf(s.Out, "records: %d (valid %d, invalid %d)\nconnection: %s\n", plan.Records, plan.Valid, plan.Invalid, plan.Connection)
		fmt.Fprintf(s.Out, "estimate: %d requests at %.1f/s (%s) ≈ %s, plus a look-up per existing user\n", plan.Requests, plan.Rate, plan.RateSource, plan.Duration)
	}
	if plan.Invalid > 0 {
		return &IncompleteError{Invalid: plan.Invalid}
	}
	return nil
}

// rateReader is what estimates need of the client.
type rateReader interface {
	Headroom() (limit, remaining int, reset time.Time, ok bool)
}

// publishedRates maps the bucket size a tenant advertises
// (x-ratelimit-limit) to the refill rate of the Auth0 plan with that bucket
// (auth0-facts.md). One response shows the bucket but not its refill rate, so
// this is how a dry run turns the headers into a pace.
var publishedRates = map[int]struct {
	rate float64
	plan string
}{
	2: {2, "Free: burst 2, 2/s"},
	// Essentials/Professional read connections (the dry run's one request)
	// has a bucket of 5; creates there go at the write-users limit.
	5:  {200.0 / 60, "Essentials/Professional (read connections burst 5); write users: burst 20, 200/min"},
	10: {2, "Enterprise non-production: burst 10, 2/s"},
	20: {200.0 / 60, "Essentials/Professional write users: burst 20, 200/min"},
	50: {16, "Enterprise production: burst 50, 16/s"},
}

// estimateRate says at what pace a run will go and how that was decided.
func estimateRate(flagRate float64, c rateReader) (float64, string) {
	limit, _, _, ok := c.Headroom()
	known, isKnown := publishedRates[limit]
	switch {
	case flagRate > 0 && (!ok || !isKnown || flagRate <= known.rate):
		return flagRate, "--rate"
	case ok && isKnown:
		return known.rate, fmt.Sprintf("the tenant's x-ratelimit-limit of %d matches Auth0's published %s", limit, known.plan)
	case ok:
		return 2, fmt.Sprintf("the tenant's bucket of %d matches no published plan; assuming the smallest published rate, 2/s (a0bulk learns the real rate while it runs)", limit)
	}
	return 2, "no rate-limit headers seen; assuming Auth0's smallest published rate, 2/s"
}
