package run

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/a0bulk/a0bulk/create"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/throttle"
)

// Plan is what a run would do with its input, found by reading every
// record exactly as the run would and sending nothing: the one planner
// behind validate and every --dry-run.
type Plan struct {
	Records, Valid, Invalid int
	// ChunkBytes is the size of each import file the valid records fill,
	// in order (import mode only).
	ChunkBytes []int
	// Problems are the first MaxListedProblems invalid records.
	Problems []Problem

	// Sync: what the state says of the valid records.
	StateExists             bool
	New, Changed, Unchanged int

	// Hashes is what the --hashes join would do (nil without), with the
	// first lines of its listing.
	Hashes *HashSummary

	// Send is the number of records the run would send (a fresh import or
	// create: every valid one).
	Send int
	// Resumed: the plan is of a --resume or --retry-failed, which sends only
	// what its report left: Done records have their final line (not sent
	// again), Settle ones are in jobs the tenant accepted (settled by
	// reading them), Retry ones are failed records a retry sends again
	// (counted in Send too).
	Resumed             bool
	Done, Settle, Retry int

	// Dry runs that ask the tenant (import, create).
	Connection string // "Name (id, strategy s)"
	Requests   int
	Rate       float64
	RateSource string
	Duration   time.Duration
}

// Problem is one invalid record.
type Problem struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// MaxListedProblems keeps a plan readable; its counts are always exact.
const MaxListedProblems = 1000

// Verdicts a plan's listing names.
const (
	WouldCreate = "create"
	WouldUpdate = "update"
	WouldSkip   = "skip"
)

// verdictNames names the state's verdicts (a table, not a map built per
// record: this is the planner's hot path).
var verdictNames = [...]string{syncNew: WouldCreate, syncChanged: WouldUpdate, syncUnchanged: WouldSkip}

// rules are the checks a run applies to a record beyond the input's own
// validation, in the order it applies them.
type rules struct {
	in              inputs
	chunkBytes      int         // > 0: valid records fill import files of this size
	requirePassword bool        // create mode without --random-password
	state           stateReader // sync: judge each valid record (nil: no state yet)
	judged          bool        // sync
	full            bool        // sync --full
	list            func(string, input.Record)
	// left, for a resumed run, is what its report leaves of each record.
	left func(report.Key) leftover
	join *hashJoin // --hashes
}

// Validate plans inputs offline, read for mode (import or create). In
// import mode the valid records are packed into files of chunkBytes.
func Validate(ctx context.Context, env Env, paths []string, format, mapFile string, mode input.Mode, chunkBytes int) (*Plan, error) {
	return ValidateAs(ctx, env, paths, report.Settings{Format: format, Map: mapFile, ChunkBytes: chunkBytes}, mode)
}

// ValidateAs is Validate with how the inputs are read (Format, Map,
// Delimiter) and the import files' size (ChunkBytes) in how.
func ValidateAs(ctx context.Context, env Env, paths []string, how report.Settings, mode input.Mode) (*Plan, error) {
	env.defaults()
	in, err := openInputs(paths, how, mode)
	if err != nil {
		return nil, err
	}
	spec := Spec{Mode: ModeImport, Settings: how}
	if mode == input.ModeCreate {
		spec.Mode = ModeCreate
	}
	hj, err := openHashes(ctx, &env, &spec, false)
	if err != nil {
		return nil, err
	}
	defer hj.close()
	r := rules{in: in, join: hj}
	if mode == input.ModeImport {
		r.chunkBytes = how.ChunkBytes
	}
	return plan(ctx, &env, r)
}

// DryRun plans spec as the run would go: every record read, validated and
// judged by the run's own rules, nothing sent. An import or create dry run
// then looks the connection up (its one request) and a create estimates
// its duration from the tenant's rate-limit headers; a sync dry run asks
// only the state. list, when set, is told each valid record's verdict.
func DryRun(ctx context.Context, env Env, spec Spec, list func(verdict string, rec input.Record)) (*Plan, error) {
	env.defaults()
	in, err := openInputs(spec.Inputs, spec.Settings, spec.sendMode())
	if err != nil {
		return nil, err
	}
	hj, err := openHashes(ctx, &env, &spec, false)
	if err != nil {
		return nil, err
	}
	defer hj.close()
	r := rules{in: in, list: list, full: spec.Full, join: hj}
	if in.Mode == input.ModeImport {
		r.chunkBytes = spec.ChunkBytes
	} else {
		r.requirePassword = !spec.RandomPassword
	}
	if spec.Mode != ModeSync {
		if spec.Resume != "" {
			// What is left of the run: the report is checked as the
			// resume would check it (same inputs, same tenant), then read.
			jp, err := planJournal(ctx, &env, spec, in)
			if err != nil {
				return nil, err
			}
			st := jp.res.State
			r.in = jp.in
			r.in.byLine = st.Header.KeyedByLine()
			r.left = leftOf(st, spec.Retry)
		}
		p, err := plan(ctx, &env, r)
		if err != nil {
			return nil, err
		}
		return p, p.ask(ctx, &env, spec)
	}
	r.judged = true
	// A missing state is not created: every valid user is then new. An
	// existing one is locked like a sync's, so a dry run never reads a
	// state another sync is writing.
	exists := false
	guard := spec.Guard.check(nil)
	switch _, err := os.Stat(spec.State); {
	case err == nil:
		store, err := openState(spec.State, &env)
		if err != nil {
			return nil, err
		}
		defer store.Close()
		r.state, guard.store, exists = store, store, true
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("opening the sync state: %w", err)
	}
	p, err := plan(ctx, &env, r)
	if err != nil {
		return p, err
	}
	p.StateExists = exists
	// The real sync's guard, on the count the plan made.
	_, err = guard.judge(p.Valid)
	return p, err
}

// ask is a dry run's one request: the connection, and the pace it implies.
func (p *Plan) ask(ctx context.Context, env *Env, spec Spec) error {
	tenant, err := env.connect()
	if err != nil {
		return err
	}
	// The scopes the real run would need are checked as its own are.
	if err := env.gate(ctx, spec.dryIntent(env, p.Valid)); err != nil {
		return err
	}
	conn, err := databaseConnection(ctx, tenant, spec.Connection)
	if err != nil {
		return err
	}
	p.Connection = fmt.Sprintf("%s (%s, strategy %s)", conn.Name, conn.ID, conn.Strategy)
	if spec.Mode == ModeCreate {
		p.Requests = p.Send
		if spec.VerifyEmail {
			// The user, its verification job, and at least one read of
			// the job (a request, not a sent email, until read back).
			p.Requests *= 3
		}
		limit, _, _, ok := tenant.Headroom()
		p.Rate, p.RateSource = throttle.EstimateRate(spec.Rate, limit, ok)
		p.Duration = (time.Duration(float64(p.Requests)/p.Rate*float64(time.Second)) + time.Second - 1).Truncate(time.Second)
	}
	return nil
}

// plan reads every record and applies r, keeping only counts, chunk sizes
// and the first problems (constant memory).
func plan(ctx context.Context, env *Env, r rules) (*Plan, error) {
	p := &Plan{Resumed: r.left != nil}
	var chunker *input.Chunker
	if r.chunkBytes > 0 {
		chunker = input.NewChunker(r.chunkBytes, 1)
	}
	addChunk := func(c *input.Chunk) {
		if c != nil {
			p.ChunkBytes = append(p.ChunkBytes, len(c.Body))
		}
	}
	rd := reading{in: r.in, stdin: env.Stdin, join: r.join}
	if r.join != nil {
		if err := r.join.pass(""); err != nil {
			return nil, err
		}
	}
	withheld := 0
	err := rd.stream(ctx, func(rec input.Record) error {
		p.Records++
		left := toSend
		if r.left != nil {
			left = r.left(keyOf(rec))
		}
		switch left {
		case isFinal:
			p.Done++
		case toSettle:
			p.Settle++
		}
		sends := left == toSend || left == toRetry
		verdict := WouldCreate
		if rec.Valid() && r.judged {
			v, _, _, err := judge(r.state, rec, r.full)
			if err != nil {
				return err
			}
			verdict = verdictNames[v]
			// As the sync does: an existing user goes without its hash.
			if verdict == WouldUpdate && sends && withholdHash(&rec) {
				withheld++
			}
		}
		if rec.Valid() && verdict != WouldSkip && sends {
			if err := r.sendable(&rec, chunker, addChunk); err != nil {
				return err
			}
		}
		if !rec.Valid() {
			p.Invalid++
			if len(p.Problems) < MaxListedProblems {
				p.Problems = append(p.Problems, Problem{File: rec.File, Line: rec.Line, Reason: describe(rec.Errors)})
			}
			return nil
		}
		p.Valid++
		if sends && verdict != WouldSkip {
			p.Send++
		}
		if left == toRetry {
			p.Retry++
		}
		if r.judged {
			switch verdict {
			case WouldCreate:
				p.New++
			case WouldUpdate:
				p.Changed++
			default:
				p.Unchanged++
			}
		}
		if r.list != nil {
			r.list(verdict, rec)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if chunker != nil {
		addChunk(chunker.Flush())
	}
	p.Hashes = r.join.summary(withheld)
	return p, nil
}

// sendable applies the send mode's own rules to a valid record that would
// be sent, as the run applies them: a create needs a password; an import
// record must fit in one import file.
func (r rules) sendable(rec *input.Record, chunker *input.Chunker, addChunk func(*input.Chunk)) error {
	if r.requirePassword {
		if fe := create.MissingPassword(rec, false, false); fe != nil {
			rec.Errors = append(rec.Errors, *fe)
		}
		return nil
	}
	if chunker == nil {
		return nil
	}
	full, err := chunker.Add(*rec)
	if errors.Is(err, input.ErrRecordTooLarge) {
		rec.Errors = append(rec.Errors, tooLarge(r.chunkBytes))
		return nil
	}
	addChunk(full)
	return err
}

// leftOf is what a resume (retry: a retry) of the run whose report is st
// leaves of each record, as the run would decide it (resumePlan.left,
// retryPlan.admit).
func leftOf(st *report.State, retry bool) func(report.Key) leftover {
	rp := newResumePlan(st)
	return func(k report.Key) leftover {
		if f, ok := st.FinalOf(k); retry && ok && f.Status == report.Failed {
			return toRetry
		}
		return rp.left(k)
	}
}
