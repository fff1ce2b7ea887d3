package run

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/alitto/pond/v2"

	"github.com/a0bulk/a0bulk/create"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/words"
)

// VerifySpec is one verify run: the users of a run's report (FromReport,
// whose lines are appended to it) or of input files (a new report).
type VerifySpec struct {
	FromReport string
	Inputs     []string
	Format     string
	Map        string
	Delimiter  string // --delimiter ("": detected)
	ReportPath string // the new report of an --input run

	AppClientID string
	Concurrency int
}

// verifyTarget is one user to send a verification email to, or, with a
// jobID, whose email an earlier run requested as that job: it is read back,
// never sent again.
type verifyTarget struct {
	key    report.Key
	email  string
	userID string
	jobID  string
}

// verify sends t's email, or reads back the job an earlier run left.
func (t verifyTarget) verify(ctx context.Context, v *jobs.Verifier) error {
	if t.jobID != "" {
		return v.Resume(ctx, t.key, t.email, t.userID, t.jobID)
	}
	return v.Send(ctx, t.key, t.email, t.userID)
}

// Verify sends a verification email to each target, journalled write-ahead
// (verification_sending before the request, and again with the job id once
// the tenant accepted it), and reads each job back to its end, so that no
// resume emails a user twice. A user whose email is verified already (the
// input says so, or the tenant when the user is looked up by email) is not
// emailed: a verification_skipped line says so. Its summary counts this
// run's records only (VerifyCounts).
func Verify(ctx context.Context, env Env, vs VerifySpec) (*Summary, error) {
	env.defaults()
	tenant, err := env.connect()
	if err != nil {
		return nil, err
	}
	waits, unwatch := watchWaits(&env, tenant)
	defer unwatch()
	tally := newVerifyTally()
	var src *verifySource
	if vs.FromReport != "" {
		src, err = verifyFromReport(ctx, &env, vs.FromReport, tally)
	} else {
		src, err = verifyFromInput(ctx, &env, vs, tally)
	}
	if err != nil {
		return nil, err
	}
	journal := src.journal
	defer journal.Close()
	problems := &problemCollector{}
	journal.Observe(problems.Observe)
	journal.Observe(tally.Observe)
	v := newVerifier(&env, tenant, journal, vs.AppClientID)

	prog := env.progress(Task{Command: string(ModeVerify)})
	journal.Observe(prog.Observe)
	defer prog.Stop()
	waits.show(prog)

	workCtx, stopWork := env.graceContext(ctx)
	defer stopWork()
	concurrency := max(vs.Concurrency, 1)
	pool := pond.NewPool(concurrency, pond.WithQueueSize(concurrency))
	var (
		mu    sync.Mutex
		fatal error
	)
	stopped := func() error { mu.Lock(); defer mu.Unlock(); return fatal }
	readErr := src.targets(prog.RecordRead, func(t verifyTarget) error {
		if err := stopped(); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if t.jobID != "" {
			tally.readingBack(t.key)
		}
		pool.Submit(func() {
			// Queued work does not start after a signal or a fatal answer.
			if stopped() != nil || ctx.Err() != nil {
				return
			}
			if err := t.verify(workCtx, v); err != nil {
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
	if err := v.Wait(); err != nil {
		mu.Lock()
		if fatal == nil {
			fatal = err
		}
		mu.Unlock()
	}
	prog.Stop()

	// The exit code speaks of this verify only: a report of an import that
	// had invalid rows, or of an earlier verify whose emails failed, must
	// not make every later verify exit 3.
	counts := tally.counts()
	outcomeOf := func(report.Tally) error {
		if n := tally.invalidCount(); n+counts.Failed > 0 {
			return &IncompleteError{Invalid: n, Failed: counts.Failed}
		}
		return nil
	}
	fatalErr := stopped()
	var cd *management.CustomDomainError
	if errors.As(fatalErr, &cd) {
		fatalErr = fmt.Errorf("the tenant refused the custom domain, stopping: %w", fatalErr)
	}
	var read *readCount // verify --report appends to its run's report: that run's end stands
	if !src.fromReport {
		read = &readCount{}
		read.n.Store(int64(tally.readCount()))
		read.done.Store(readErr == nil)
	}
	sum, err := finish(ctx, Spec{Mode: ModeVerify}, journal, problems, read, nil, outcomeOf, tenant, readErr, fatalErr)
	if sum != nil {
		src.summarize(sum, tally, journal, ctx.Err() == nil && readErr == nil && fatalErr == nil)
	}
	return sum, err
}

// verifySource is where a verify run's users come from: a run's report (its
// lines appended to it) or input files (a report of its own).
type verifySource struct {
	journal *report.Writer
	// targets reads every record, calls onRead for each, and hands those
	// to email (or whose earlier job to read back) to fn; the others are
	// journalled or counted as they are read.
	targets    func(onRead func(), fn func(verifyTarget) error) error
	fromReport bool
	// mode and end are the report's run's (verify --report), whose state
	// the run's own end-of-run line still tells.
	mode string
	end  *report.End
}

// summarize makes sum speak of this verify run: its records, the counts of
// its own lines, its reasons; and, for verify --report, the state of the
// report it appended to (the run's end stands). done: the run was neither
// stopped nor failed.
func (src *verifySource) summarize(sum *Summary, tally *verifyTally, journal *report.Writer, done bool) {
	counts := tally.counts()
	sum.Records, sum.Verified, sum.Reasons = tally.readCount(), &counts, tally.reasons.Top()
	for k := range sum.Counts {
		sum.Counts[k] = 0
	}
	sum.Counts[string(report.Invalid)] = tally.invalidCount()
	if src.fromReport {
		sum.Progress = report.JudgeRun(src.mode, src.end, journal.Tally(), journal.InFlight())
		if done {
			sum.Resume = NextStep(src.mode, journal.Path(), sum.Progress.State)
		}
	}
	if done && sum.Resume == "" {
		sum.RetryCommand = RetryStep(string(ModeVerify), journal.Path(), counts.Failed)
	}
}

// verifyFromReport picks the users a run created, imported or updated whose
// email is not verified (re-reading the source for email_verified), or, for
// the report of an earlier verify --input run, every user it has not yet
// sent; users that already have a verification_sent line are skipped.
func verifyFromReport(ctx context.Context, env *Env, path string, tally *verifyTally) (*verifySource, error) {
	h, err := report.ReadHeader(path)
	if err != nil {
		return nil, Usagef("--report %s: %w", path, err)
	}
	switch Mode(h.Mode) {
	case ModeImport, ModeCreate, ModeSync, ModeVerify:
	default:
		return nil, Usagef("--report %s is %s report; give the report of an import, create, sync or verify run", path, words.A(h.Mode))
	}
	// email_verified is read at the recorded file:line: it must still be
	// the record the run saw there.
	ro, err := reopen(env, path, "--report", report.LoadUserIDs) // each created user's id
	if err != nil {
		return nil, err
	}
	st := ro.State
	if err := env.gate(ctx, Intent{Command: ModeVerify, Target: env.Target, Report: path, Resume: true, Records: -1}); err != nil {
		return nil, err
	}
	journal, _, err := report.AppendFor(path, env.Clock, report.ForVerify)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	rd := reading{in: ro.in, stdin: env.Stdin}
	targets := func(onRead func(), fn func(verifyTarget) error) error {
		return rd.stream(ctx, func(rec input.Record) error {
			onRead()
			tally.read()
			k := keyOf(rec)
			switch v, _ := st.Verification(k); {
			case v.Status == report.VerificationSent:
				tally.sentBefore()
				return nil
			case v.Status == report.VerificationSkipped:
				tally.verifiedBefore()
				return nil
			case v.Status == report.VerificationSending && v.JobID != "":
				// The tenant accepted it as a job, not yet read back.
				return fn(verifyTarget{key: k, email: v.Email, userID: v.UserID, jobID: v.JobID})
			case v.Status == report.VerificationSending:
				// An earlier run sent it and stopped before the answer:
				// sending again could email the user twice.
				e := report.At(k)
				e.Email, e.UserID, e.Status = v.Email, v.UserID, report.VerificationFailed
				e.Code, e.Reason = jobs.CodeUnknownFate, "the run stopped after sending this email and before its answer: it may have been sent, so it is not sent again (run verify once more to resend)"
				return journal.Record(e)
			}
			email, userID := rec.User.Email, providerID(rec.User.UserID)
			if Mode(h.Mode) == ModeVerify {
				if !rec.Valid() {
					tally.notEligible() // reported invalid by the first run
					return nil
				}
			} else {
				final, ok := st.FinalOf(k)
				if !ok || (final.Status != report.Created && final.Status != report.Imported && final.Status != report.Updated) {
					tally.notEligible()
					return nil
				}
				// The final line's email is the record's; only its id is kept.
				userID = final.UserID
			}
			if verifiedInInput(rec) {
				return journal.Record(skippedVerified(k, email, userID))
			}
			return fn(verifyTarget{key: k, email: email, userID: userID})
		})
	}
	return &verifySource{journal: journal, targets: targets, fromReport: true, mode: h.Mode, end: st.End()}, nil
}

// verifiedInInput: the record says its email is verified; Auth0 would email
// the user all the same (a verification job only asks for the email).
func verifiedInInput(rec input.Record) bool {
	return rec.User.EmailVerified != nil && *rec.User.EmailVerified
}

// skippedVerified is the line of a user not emailed because the input says
// the email is verified.
func skippedVerified(k report.Key, email, userID string) report.Entry {
	e := report.At(k)
	e.Email, e.UserID, e.Status = email, userID, report.VerificationSkipped
	e.Code, e.Reason = report.CodeEmailVerified, "the input says email_verified: true: not emailed"
	return e
}

// providerID keeps a user id that names its provider ("auth0|…"); an
// import-schema id lacks it, and the user is then looked up by email.
func providerID(id string) string {
	if strings.Contains(id, "|") {
		return id
	}
	return ""
}

func verifyFromInput(ctx context.Context, env *Env, vs VerifySpec, tally *verifyTally) (*verifySource, error) {
	spec := Spec{Mode: ModeVerify, Inputs: vs.Inputs, ReportPath: vs.ReportPath}
	spec.Format, spec.Map, spec.Delimiter = vs.Format, vs.Map, vs.Delimiter
	in, err := openInputs(spec.Inputs, spec.Settings, input.ModeImport)
	if err != nil {
		return nil, err
	}
	jp, err := planJournal(ctx, env, spec, in)
	if err != nil {
		return nil, err
	}
	if err := env.gate(ctx, Intent{Command: ModeVerify, Target: env.Target, Inputs: jp.header.Inputs, Report: jp.path, Records: -1}); err != nil {
		jp.discard()
		return nil, err
	}
	journal, _, err := jp.open()
	if err != nil {
		jp.discard()
		return nil, err
	}
	rd := reading{in: jp.in, stdin: env.Stdin}
	targets := func(onRead func(), fn func(verifyTarget) error) error {
		return rd.stream(ctx, func(rec input.Record) error {
			onRead()
			tally.read()
			k := keyOf(rec)
			switch {
			case !rec.Valid():
				return journal.Record(invalidEntry(rec))
			case verifiedInInput(rec):
				return journal.Record(skippedVerified(k, rec.User.Email, providerID(rec.User.UserID)))
			}
			return fn(verifyTarget{key: k, email: rec.User.Email, userID: providerID(rec.User.UserID)})
		})
	}
	return &verifySource{journal: journal, targets: targets}, nil
}

// newVerifier is the Verifier of a run: env.PollMin, when set, shortens the
// wait before a verification job's first read, as it does an import job's.
func newVerifier(env *Env, tenant Tenant, journal report.Journal, appClientID string) *jobs.Verifier {
	return &jobs.Verifier{API: tenant, Journal: journal, ClientID: appClientID, Clock: env.Clock, FirstRead: env.PollMin}
}

// owedVerifications wraps a resumed create's admit: a record the earlier
// run created and owed a verification email it never requested (it died
// between the created line and the email's first line, or stopped on a
// failed read-back before sending it) is emailed now, once.
func owedVerifications(ctx context.Context, admit admitFunc, st *report.State, v *jobs.Verifier) admitFunc {
	if st == nil {
		return admit
	}
	return func(rec *input.Record) (bool, error) {
		send, err := admit(rec)
		if err != nil || send {
			return send, err
		}
		k := keyOf(*rec)
		f, done := st.FinalOf(k)
		if _, asked := st.Verification(k); !done || asked || f.Status != report.Created || !create.OwesVerification(rec) {
			return false, nil
		}
		return false, v.Send(ctx, k, rec.User.Email, f.UserID)
	}
}

// resumeVerifications hands the verification jobs an earlier run requested
// and never read back (a verification_sending line with a job id and no
// final verification line) to v, which reads them back instead of emailing
// again (create --resume --verify-email). On an error it waits for the jobs
// already handed over, so that none writes to the journal after the run.
func resumeVerifications(ctx context.Context, v *jobs.Verifier, st *report.State) error {
	if st == nil {
		return nil
	}
	var keys []report.Key
	for k, e := range st.Verifying() {
		if e.JobID != "" {
			keys = append(keys, k)
		}
	}
	// In input order, so the report reads like the run.
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].File != keys[j].File {
			return keys[i].File < keys[j].File
		}
		return keys[i].Record < keys[j].Record || (keys[i].Record == keys[j].Record && keys[i].Line < keys[j].Line)
	})
	for _, k := range keys {
		e := st.Verifying()[k]
		if err := v.Resume(ctx, k, e.Email, e.UserID, e.JobID); err != nil {
			_ = v.Wait() // its error is err, or follows from it
			return err
		}
	}
	return nil
}
