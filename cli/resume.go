package cli

import (
	"context"
	"errors"
	"sync"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/report"
)

// resumePlan decides, for each record read again on --resume, whether it is
// finished (skip), belongs to a chunk the tenant already accepted as a job
// (collected here and settled by reading that job), or must be sent again.
type resumePlan struct {
	state     *report.State
	nextChunk int
	jobChunk  map[report.Key]int   // record → its submitted chunk
	submitted map[int]*input.Chunk // seq → chunk rebuilt from the input
	jobOf     map[int]string
	// unsent: records queued by the earlier run in a chunk it never saw
	// accepted: the tenant may or may not have them.
	unsent map[report.Key]bool
}

func newResumePlan(state *report.State) *resumePlan {
	p := &resumePlan{state: state, nextChunk: 1, jobChunk: map[report.Key]int{}, submitted: map[int]*input.Chunk{}, jobOf: map[int]string{}, unsent: map[report.Key]bool{}}
	if state == nil {
		return p
	}
	p.nextChunk = state.LastChunk + 1
	for _, c := range state.InFlightChunks() {
		if c.JobID == "" {
			// Never acknowledged by the tenant: its records are sent again,
			// and a DUPLICATED_USER among them is looked up.
			for _, k := range c.Keys {
				p.unsent[k] = true
			}
			continue
		}
		p.submitted[c.Seq] = &input.Chunk{Seq: c.Seq}
		p.jobOf[c.Seq] = c.JobID
		for _, k := range c.Keys {
			p.jobChunk[k] = c.Seq
		}
	}
	return p
}

// admit is the pipeline's Admit for a resumed run.
func (p *resumePlan) admit(rec input.Record) (bool, error) { return !p.skip(rec), nil }

// skip reports whether rec needs no sending in this run.
func (p *resumePlan) skip(rec input.Record) bool {
	if p.state == nil {
		return false
	}
	k := report.Key{File: rec.File, Line: rec.Line}
	if p.state.Done(k) {
		return true
	}
	if seq, ok := p.jobChunk[k]; ok {
		c := p.submitted[seq]
		c.Records = append(c.Records, input.ChunkRecord{File: rec.File, Line: rec.Line, Email: rec.User.Email, UserID: rec.User.UserID})
		return true
	}
	return false
}

// settle reads each job the earlier run submitted and settles its records.
func (p *resumePlan) settle(ctx context.Context, sched *jobs.Scheduler) error {
	var wg sync.WaitGroup
	errs := make([]error, 0, len(p.submitted))
	var mu sync.Mutex
	for seq, c := range p.submitted {
		if len(c.Records) == 0 {
			continue
		}
		wg.Add(1)
		go func(seq int, c input.Chunk) {
			defer wg.Done()
			// Settle's errors already name the chunk and its job.
			if err := sched.Settle(ctx, c, p.jobOf[seq]); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}(seq, *c)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// wasSending reports whether a create of k was in flight when an earlier
// run stopped: it is settled by looking the user up before sending again.
func (p *resumePlan) wasSending(k report.Key) bool {
	if p.state == nil {
		return false
	}
	_, ok := p.state.Sending[k]
	return ok
}

// maybeSent is the scheduler's MaybeSent for a resumed run.
func (p *resumePlan) maybeSent(k report.Key) bool { return p.unsent[k] }
