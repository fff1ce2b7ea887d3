package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"time"

	"github.com/a0bulk/a0bulk/management"
)

const (
	typeImport       = "users_import"
	typeVerification = "verification_email"
	typeExport       = "users_export"
	jobRetention     = 24 * time.Hour
	// importTimeout: Auth0 fails an import job still running 2 hours after
	// it was created ("Jobs time out after 2 hours"), and a completed job
	// created more than 2 hours ago reads expired, without its summary.
	importTimeout = 2 * time.Hour
	// timeoutJobRun is how long a job of TimeOutEveryNthJob would run: at
	// importTimeout it is a third through processing its users.
	timeoutJobRun = 3 * time.Hour
	// DuplicatedUserMessage is the recorded message for a user already in
	// the tenant when upsert is false.
	DuplicatedUserMessage = "The user already exist and upsert parameter is false"
	// FailedJobDetails is the status_details of a job failed by FailEveryNthJob.
	FailedJobDetails = "Internal error: the users file could not be processed"
	// TimedOutJobDetails is the status_details of an import job still
	// running at 2 hours.
	TimedOutJobDetails = "Job timed out"
)

var (
	connIDRE = regexp.MustCompile(`^con_[A-Za-z0-9]{16}$`)
	jobIDRE  = regexp.MustCompile(`^job_[A-Za-z0-9]{16}$`)
)

type job struct {
	id, typ     string
	created     time.Time
	doneAt      time.Time // when processing ends
	connID      string
	connName    string
	externalID  string
	upsert      bool
	seq         int
	users       []json.RawMessage
	final       string // "" until the job reached its final status
	summary     *management.JobSummary
	details     string
	errors      []userError
	sendCompEml bool
	failVerify  bool // a verification job that ends failed (verification.go)
	export      *exportJob
}

// userError is one element of the per-user form of GET /jobs/{id}/errors.
// User is the submitted object, echoed with sensitive values masked.
type userError struct {
	User   any       `json:"user"`
	Errors []problem `json:"errors"`
}

// jobView is a job on the wire, fields in the recorded order.
type jobView struct {
	Type            string                   `json:"type"`
	Status          string                   `json:"status"`
	ConnectionID    string                   `json:"connection_id,omitempty"`
	Format          string                   `json:"format,omitempty"`
	Limit           int                      `json:"limit,omitempty"`
	Fields          []management.ExportField `json:"fields,omitempty"`
	Location        string                   `json:"location,omitempty"`
	Summary         *management.JobSummary   `json:"summary,omitempty"`
	Connection      string                   `json:"connection,omitempty"`
	ExternalID      string                   `json:"external_id,omitempty"`
	PercentageDone  *int                     `json:"percentage_done,omitempty"`
	TimeLeftSeconds *int                     `json:"time_left_seconds,omitempty"`
	StatusDetails   string                   `json:"status_details,omitempty"`
	CreatedAt       string                   `json:"created_at"`
	ID              string                   `json:"id"`
}

// failureView is the generic failure member of the errors union.
type failureView struct {
	Status        string `json:"status"`
	Type          string `json:"type"`
	CreatedAt     string `json:"created_at"`
	ID            string `json:"id"`
	ConnectionID  string `json:"connection_id,omitempty"`
	StatusDetails string `json:"status_details"`
}

func (j *job) status(now time.Time) string {
	switch {
	case j.final == management.JobCompleted && j.typ == typeImport && now.Sub(j.created) > importTimeout:
		return management.JobExpired
	case j.final != "":
		return j.final
	case j.typ == typeVerification, now.Before(j.doneAt.Add(-(j.doneAt.Sub(j.created) / 2))):
		return management.JobPending
	}
	return management.JobProcessing
}

func (j *job) view(now time.Time) jobView {
	v := jobView{Type: j.typ, Status: j.status(now), ConnectionID: j.connID, Connection: j.connName,
		ExternalID: j.externalID, CreatedAt: timestamp(j.created), ID: j.id}
	if e := j.export; e != nil {
		v.Format, v.Limit, v.Fields = e.format, e.limit, e.fields
	}
	switch v.Status {
	case management.JobProcessing:
		half := j.doneAt.Sub(j.created) / 2
		start := j.doneAt.Add(-half)
		pct := 100
		if half > 0 {
			pct = int(100 * now.Sub(start) / half)
		}
		left := int(math.Ceil(j.doneAt.Sub(now).Seconds()))
		v.PercentageDone, v.TimeLeftSeconds = &pct, &left
	case management.JobCompleted:
		v.Summary = j.summary
	case management.JobFailed:
		v.StatusDetails = j.details
	}
	return v
}

// activeImports counts this tenant's import jobs still pending or processing.
func (s *Server) activeImports(now time.Time) int {
	n := 0
	for _, j := range s.jobOrder {
		if j.typ == typeImport && j.final == "" {
			n++
		}
	}
	return n
}

func (s *Server) heldSlots(now time.Time) int {
	f := s.cfg.Faults
	if f.HeldSlots > 0 && now.Before(s.start.Add(f.HeldFor)) {
		return f.HeldSlots
	}
	return 0
}

// advanceJobs finishes, in creation order, every import job whose time has
// come: at its end, or at 2 hours if it would run longer (it times out).
// Running it at the start of every request makes time-based behaviour
// lazy, so a fake clock drives it. Callers hold s.mu.
func (s *Server) advanceJobs(now time.Time) {
	for _, j := range s.jobOrder {
		if j.final != "" {
			continue
		}
		deadline := j.created.Add(importTimeout)
		switch {
		case j.typ == typeImport && j.doneAt.After(deadline) && !now.Before(deadline):
			s.timeOut(j, deadline)
		case !now.Before(j.doneAt):
			s.finish(j)
		}
	}
}

// postImport is POST /api/v2/jobs/users-imports.
func (s *Server) postImport(c *call) response {
	mt, params, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return errResp(http.StatusBadRequest, "Invalid multipart payload format", "invalid_body")
	}
	fields := map[string]string{}
	var file []byte
	haveFile := false
	mr := multipart.NewReader(bytes.NewReader(c.body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return errResp(http.StatusBadRequest, "Invalid multipart payload format", "invalid_body")
		}
		data, err := io.ReadAll(io.LimitReader(p, int64(s.cfg.MaxFileBytes)+1))
		if err != nil {
			return errResp(http.StatusBadRequest, "Invalid multipart payload format", "invalid_body")
		}
		if p.FormName() == "users" {
			if len(data) > s.cfg.MaxFileBytes {
				return errResp(http.StatusRequestEntityTooLarge, tooLargeMessage(s.cfg.MaxFileBytes), "")
			}
			file, haveFile = data, true
			continue
		}
		fields[p.FormName()] = string(data)
	}
	connID, ok := fields["connection_id"]
	switch {
	case !ok:
		return payloadError("Missing required property: connection_id")
	case !connIDRE.MatchString(connID):
		return payloadError("String does not match pattern ^con_[A-Za-z0-9]{16}$", "connection_id")
	case !haveFile:
		return payloadError("Missing required property: users")
	}
	flags := map[string]bool{"upsert": false, "send_completion_email": true}
	for name := range flags {
		v, ok := fields[name]
		if !ok {
			continue
		}
		if v != "true" && v != "false" {
			return payloadError("Expected type boolean but found type string", name)
		}
		flags[name] = v == "true"
	}
	conn := s.connectionByID(connID)
	if conn == nil {
		return errResp(http.StatusNotFound, "The connection does not exist", "inexistent_connection")
	}
	if !conn.IsDatabase() {
		return errResp(http.StatusBadRequest, "The connection must be a database connection", "invalid_body")
	}
	var users []json.RawMessage
	if err := json.Unmarshal(file, &users); err != nil {
		return errResp(http.StatusBadRequest, "Users file must be a JSON array of users", "invalid_body")
	}
	if active := s.activeImports(c.now) + s.heldSlots(c.now); active >= s.cfg.MaxJobs {
		s.stats.jobLimit++
		return errResp(http.StatusTooManyRequests, fmt.Sprintf(
			"There are %d active import users jobs, please wait until some of them are finished and try again", active), "")
	}
	s.importSeq++
	created := c.now.UTC().Truncate(time.Millisecond)
	j := &job{
		id: "job_" + s.alnum(16), typ: typeImport, created: created, doneAt: created.Add(2 * s.cfg.JobDelay),
		connID: conn.ID, connName: conn.Name, externalID: fields["external_id"], upsert: flags["upsert"],
		sendCompEml: flags["send_completion_email"], seq: s.importSeq, users: users,
	}
	if n := s.cfg.Faults.TimeOutEveryNthJob; n > 0 && j.seq%n == 0 {
		j.doneAt = created.Add(timeoutJobRun)
	}
	s.addJob(j)
	s.stats.importJobs++
	s.stats.maxConcurrent = max(s.stats.maxConcurrent, s.activeImports(c.now))
	v := j.view(c.now)
	v.Status = management.JobPending // even a zero-delay job is created pending
	v.Summary, v.PercentageDone, v.TimeLeftSeconds, v.StatusDetails = nil, nil, nil, ""
	if !c.now.Before(j.doneAt) { // JobDelay < 0: done at once
		s.finish(j)
	}
	return reply(http.StatusAccepted, v)
}

func (s *Server) addJob(j *job) {
	s.jobs[j.id] = j
	s.jobOrder = append(s.jobOrder, j)
}

func (s *Server) lookupJob(c *call) (*job, response) {
	if !jobIDRE.MatchString(c.id) {
		return nil, errResp(http.StatusBadRequest,
			"Path validation error: 'String does not match pattern ^job_[A-Za-z0-9]{16}$' on property id", "invalid_uri")
	}
	j := s.jobs[c.id]
	// Auth0 deletes job data after 24 hours.
	if j == nil || !c.now.Before(j.created.Add(jobRetention)) {
		return nil, errResp(http.StatusNotFound, "The job does not exist.", "inexistent_job")
	}
	return j, response{}
}

// getJob is GET /api/v2/jobs/{id}.
func (s *Server) getJob(c *call) response {
	j, res := s.lookupJob(c)
	if j == nil {
		return res
	}
	v := j.view(c.now)
	if j.export != nil && v.Status == management.JobCompleted {
		// Each read signs a fresh link: Auth0's is good for 60 seconds,
		// and reading the job again within its 24 hours gives a new one.
		v.Location = s.exportLocation(c, j)
	}
	return reply(http.StatusOK, v)
}

// getJobErrors is GET /api/v2/jobs/{id}/errors, the three-form union.
func (s *Server) getJobErrors(c *call) response {
	j, res := s.lookupJob(c)
	if j == nil {
		return res
	}
	if j.final == management.JobFailed && j.typ == typeImport {
		return reply(http.StatusOK, failureView{Status: j.final, Type: j.typ, CreatedAt: timestamp(j.created),
			ID: j.id, ConnectionID: j.connID, StatusDetails: j.details})
	}
	if len(j.errors) > 0 {
		return reply(http.StatusOK, j.errors)
	}
	if s.cfg.EmptyErrorsAs200 {
		return reply(http.StatusOK, []userError{})
	}
	return reply(http.StatusNoContent, nil)
}
