package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
)

// API is what an export needs of the Management API client (the throttled
// one every command uses).
type API interface {
	ConnectionByName(ctx context.Context, name string) (*management.Connection, error)
	ExportUsers(ctx context.Context, r management.ExportRequest) (*management.Job, error)
	Job(ctx context.Context, id string) (*management.Job, error)
}

// Options is one export: what to ask Auth0 for, where the file goes, and
// what to do it with.
type Options struct {
	Connection string // the connection's name
	Format     string // json (NDJSON; the default) or csv
	// Fields to export; none: DefaultFields (json) or DefaultCSVFields.
	Fields []management.ExportField
	Limit  int // at most this many users; 0: all
	// Out is the file to write; "" or "-": Stdout. It must not exist.
	Out  string
	Gzip bool // keep the file gzip-compressed, as Auth0 serves it

	API    API
	Stdout io.Writer
	// HTTP downloads the file; nil: a client of its own, which sends no
	// token and follows links only to https (or http on loopback).
	HTTP  *http.Client
	Clock clock.Clock // nil: the wall clock
	// TempDir holds the download on its way to Stdout; "": os.TempDir().
	TempDir string
	// PollMin and PollMax bound the wait between reads of the job
	// (jobs.Await; zero: the import run's).
	PollMin, PollMax time.Duration
	// MaxDownloads bounds the attempts to download the file, each after
	// the first with a fresh link (default DefaultMaxDownloads).
	MaxDownloads int
	// JobID, when set, is an export job an earlier attempt started (and
	// journalled through OnStart): it is read, waited for and its file
	// downloaded; no job is started. A job the tenant no longer has answers
	// 404 (management.IsNotFound), one that ended without a file ErrNoFile.
	JobID string
	// OnStart, when set, is told the job the tenant started, before the
	// wait: a caller that journals its id can come back to it (JobID)
	// instead of starting another. Its error stops the export.
	OnStart func(*management.Job) error
	// OnJob, when set, sees every read of the job (progress).
	OnJob func(*management.Job)
	// Logf, when set, gets what an operator should know: a failed
	// download about to be tried again. Never the link.
	Logf func(format string, args ...any)

	// beforePublish, in tests, runs between the file's last write and
	// its rename into place.
	beforePublish func()
}

// DefaultMaxDownloads: a link lasts 60 seconds and each retry reads the job
// for a fresh one; a download that fails this often will not succeed soon.
const DefaultMaxDownloads = 4

// maxStarts bounds the POSTs of one export: a POST whose answer was lost
// may or may not have made a job, and an export job changes nothing in the
// tenant, so it is simply sent again.
const maxStarts = 3

// Result is what an export did.
type Result struct {
	JobID      string
	Connection string
	Format     string
	// Users is the number of users in the file (csv: its rows, less the
	// header). Auth0's export job reports no count to check it against:
	// the file's gzip checksum and length are what prove it whole.
	Users int
	// Bytes written to Out or Stdout (compressed with Gzip).
	Bytes     int64
	Out       string // "" for stdout
	Downloads int    // attempts the download took
}

// Run exports the users of o.Connection. On any error nothing is left
// where Out names, and nothing was written to Stdout.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.Validate(); err != nil {
		return Result{}, err
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.MaxDownloads <= 0 {
		o.MaxDownloads = DefaultMaxDownloads
	}
	if o.HTTP == nil {
		o.HTTP = downloadClient()
	}
	res := Result{Connection: o.Connection, Format: o.Format, Out: o.Out}
	// The file is made before the tenant is asked for anything: a
	// directory it cannot be written to fails first.
	s, err := newSink(o.Out, o.TempDir)
	if err != nil {
		return res, err
	}
	defer s.discard()
	id := o.JobID
	if id == "" {
		conn, err := o.API.ConnectionByName(ctx, o.Connection)
		if err != nil {
			return res, err
		}
		job, err := o.start(ctx, conn.ID)
		if err != nil {
			return res, err
		}
		if o.OnStart != nil {
			if err := o.OnStart(job); err != nil {
				return res, err
			}
		}
		id = job.ID
	}
	res.JobID = id
	job, err := o.wait(ctx, id)
	if err != nil {
		return res, err
	}
	if res.Users, res.Downloads, err = o.fetchWhole(ctx, job, s); err != nil {
		return res, err
	}
	if o.Limit > 0 && res.Users > o.Limit {
		return res, fmt.Errorf("the file of export job %s holds %d users, more than the %d asked for: not written", job.ID, res.Users, o.Limit)
	}
	if o.beforePublish != nil {
		o.beforePublish()
	}
	res.Bytes, err = s.publish(o.Stdout)
	return res, err
}

// start creates the export job.
func (o *Options) start(ctx context.Context, connID string) (*management.Job, error) {
	req := management.ExportRequest{ConnectionID: connID, Format: o.Format, Limit: o.Limit, Fields: o.Fields}
	for n := 1; ; n++ {
		job, err := o.API.ExportUsers(ctx, req)
		if err == nil {
			return job, nil
		}
		if !management.IsUnknownFate(err) || n == maxStarts || ctx.Err() != nil {
			return nil, err
		}
		o.logf("the export job's answer was lost (%v); asking again (a lost job changes nothing in the tenant)", err)
	}
}

// wait reads the job until it ends; only completed goes on.
func (o *Options) wait(ctx context.Context, id string) (*management.Job, error) {
	job, err := jobs.Await(ctx, o.API, id, o.Clock, o.PollMin, o.PollMax, o.OnJob)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("waiting for export job %s, which goes on in the tenant (a0bulk jobs wait %s waits again): %w", id, id, err)
		}
		return nil, fmt.Errorf("reading export job %s: %w", id, err)
	}
	if err := o.ours(job); err != nil {
		return nil, err
	}
	return job, completed(job)
}

// ours refuses a job given by JobID that is not an export of o.Connection
// (a journal naming another job): its file would be other users.
func (o *Options) ours(job *management.Job) error {
	if o.JobID == "" {
		return nil
	}
	if job.Type != "" && job.Type != management.JobTypeExport {
		return fmt.Errorf("job %s is a %s job, not an export", job.ID, job.Type)
	}
	if job.Connection != "" && job.Connection != o.Connection {
		return fmt.Errorf("export job %s is of connection %q, not %q", job.ID, job.Connection, o.Connection)
	}
	return nil
}

// completed: a job whose file can be downloaded.
func completed(job *management.Job) error {
	switch job.Status {
	case management.JobCompleted:
		return nil
	case management.JobFailed:
		details := job.StatusDetails
		if details == "" {
			details = "Auth0 gives no details"
		}
		return noFile(fmt.Sprintf("export job %s failed: %s", job.ID, details))
	}
	return noFile(fmt.Sprintf("export job %s ended %s, without a file (job data lives 24 hours)", job.ID, job.Status))
}

// ErrNoFile marks the error of an export job that ended without a file
// (failed, expired): reading it again will not give one.
var ErrNoFile = errors.New("the export job has no file")

// noFile is an error that says msg and is ErrNoFile.
type noFile string

func (e noFile) Error() string        { return string(e) }
func (e noFile) Is(target error) bool { return target == ErrNoFile }

// retryBackoff: a second download goes at once (the link may just have
// expired), the next ones after a second more each (the network, or the
// storage, may need a moment).
const retryBackoff = time.Second

// fetchWhole downloads the job's file into s, each failed attempt followed
// by a fresh read of the job, for a fresh link, after a short backoff.
func (o *Options) fetchWhole(ctx context.Context, job *management.Job, s *sink) (users, attempts int, err error) {
	for attempts = 1; ; attempts++ {
		users, err = o.fetch(ctx, job.Location, s)
		if err == nil {
			return users, attempts, nil
		}
		if ctx.Err() != nil {
			return 0, attempts, fmt.Errorf("downloading the file of export job %s: %w", job.ID, ctx.Err())
		}
		if attempts == o.MaxDownloads {
			return 0, attempts, fmt.Errorf("downloading the file of export job %s failed %d times, the last: %w (the job keeps its file 24 hours)", job.ID, attempts, err)
		}
		o.logf("downloading the file of export job %s failed (%v); reading the job again for a fresh link", job.ID, err)
		if err := s.reset(); err != nil {
			return 0, attempts, err
		}
		select {
		case <-ctx.Done():
			return 0, attempts, ctx.Err()
		case <-o.Clock.After(time.Duration(attempts-1) * retryBackoff):
		}
		id := job.ID
		if job, err = o.API.Job(ctx, id); err != nil {
			return 0, attempts, fmt.Errorf("reading export job %s again for a fresh link: %w", id, err)
		}
		if err := completed(job); err != nil {
			return 0, attempts, err
		}
	}
}

func (o *Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// errLinkRefused: the storage refused the link (403: expired or bad).
var errLinkRefused = errors.New("the link was refused (it lasts 60 seconds)")
