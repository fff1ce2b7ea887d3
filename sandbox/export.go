package sandbox

// Export jobs, as Auth0 documents them (auth0-facts.md "Export jobs";
// auth0.com/docs … bulk-user-exports): POST /jobs/users-exports answers 200
// with the job pending; it runs like an import job (pending for JobDelay,
// processing for JobDelay, then completed) but takes no import slot (the
// limit of 2 is of import jobs); completed, every read of the job carries
// a fresh `location`, a signed link to the gzip file on the tenant itself,
// good for 60 seconds by the tenant's clock and needing no token. The file
// is taken when the job completes; the job and its file go after 24 hours.

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a0bulk/a0bulk/management"
)

const (
	// exportLinkLifetime: "The download link is valid for 60 seconds."
	exportLinkLifetime = 60 * time.Second
	// maxCSVFields: "You can export up to 30 fields" (CSV).
	maxCSVFields = 30
	// maxFieldName is the schema's maxLength of name and export_as.
	maxFieldName = 100
	// tenantName names the file, as Auth0 names it after the tenant.
	tenantName = "sandbox"
	// exportsPath serves the files: the stand-in for Auth0's storage.
	exportsPath = "/sandbox/exports/"
)

// exportJob is what an export job was asked for and, once completed, its
// file (gzip).
type exportJob struct {
	format string
	limit  int
	fields []management.ExportField
	file   []byte
	users  int
}

// exportRequest is the body of POST /jobs/users-exports, pointers telling
// absent from zero.
type exportRequest struct {
	ConnectionID *string                  `json:"connection_id"`
	Format       *string                  `json:"format"`
	Limit        *int                     `json:"limit"`
	Fields       []management.ExportField `json:"fields"`
}

// postExport is POST /api/v2/jobs/users-exports. Callers hold s.mu.
func (s *Server) postExport(c *call) response {
	var req exportRequest
	if err := decodeStrict(c.body, &req); err != nil {
		return payloadFromDecode(err)
	}
	e := &exportJob{format: management.ExportJSON, fields: req.Fields}
	if req.Format != nil {
		e.format = *req.Format
	}
	if res := validateExport(req, e); res.status != 0 {
		return res
	}
	j := &job{id: "job_" + s.alnum(16), typ: typeExport, export: e}
	if req.ConnectionID != nil {
		conn := s.connectionByID(*req.ConnectionID)
		if conn == nil {
			return errResp(http.StatusNotFound, "The connection does not exist", "inexistent_connection")
		}
		j.connID, j.connName = conn.ID, conn.Name
	}
	if len(e.fields) == 0 {
		e.fields = defaultExportFields
	}
	created := c.now.UTC().Truncate(time.Millisecond)
	j.created, j.doneAt = created, created.Add(2*s.cfg.JobDelay)
	s.addJob(j)
	s.stats.exportJobs++
	v := j.view(c.now)
	v.Status, v.PercentageDone, v.TimeLeftSeconds = management.JobPending, nil, nil
	if !c.now.Before(j.doneAt) { // JobDelay < 0: done at once
		s.finish(j)
	}
	// 200, as recorded (go-auth0 TestJobManager_ExportUsers), not 201/202.
	return reply(http.StatusOK, v)
}

// validateExport applies the request schema (connection_id pattern, format
// enum, limit ≥ 1, each field a name of at most 100 characters) and the
// CSV rules: at most 30 fields, metadata only field by field.
func validateExport(req exportRequest, e *exportJob) response {
	switch {
	case req.ConnectionID != nil && !connIDRE.MatchString(*req.ConnectionID):
		return payloadError("String does not match pattern ^con_[A-Za-z0-9]{16}$", "connection_id")
	case e.format != management.ExportJSON && e.format != management.ExportCSV:
		return payloadError(fmt.Sprintf("No enum match for: %q", e.format), "format")
	case req.Limit != nil && *req.Limit < 1:
		return payloadError(fmt.Sprintf("Value %d is less than minimum 1", *req.Limit), "limit")
	}
	if req.Limit != nil {
		e.limit = *req.Limit
	}
	for i, f := range req.Fields {
		prop := "fields[" + strconv.Itoa(i) + "]"
		switch {
		case f.Name == "":
			return payloadError("Missing required property: name", prop)
		case len(f.Name) > maxFieldName:
			return payloadError(fmt.Sprintf("String is too long (%d chars), maximum %d", len(f.Name), maxFieldName), prop+".name")
		case len(f.ExportAs) > maxFieldName:
			return payloadError(fmt.Sprintf("String is too long (%d chars), maximum %d", len(f.ExportAs), maxFieldName), prop+".export_as")
		}
	}
	if e.format != management.ExportCSV {
		return response{}
	}
	if len(req.Fields) > maxCSVFields {
		return payloadError(fmt.Sprintf("Array is too long (%d), maximum %d", len(req.Fields), maxCSVFields), "fields")
	}
	for _, f := range req.Fields {
		if f.Name == "user_metadata" || f.Name == "app_metadata" {
			return errResp(http.StatusBadRequest, fmt.Sprintf(
				"%s cannot be exported whole in CSV: name its fields one by one (e.g. %s.country), or use the json format", f.Name, f.Name), "invalid_body")
		}
	}
	return response{}
}

// finishExport takes the job's file: the users of its connection (every
// connection without one), in creation order, at most its limit. Callers
// hold s.mu.
func (s *Server) finishExport(j *job) {
	e := j.export
	w := newExportWriter(e.format, e.fields)
	s.users.each(0, func(su *storedUser) bool {
		if j.connName == "" || su.connection == j.connName {
			w.add(su)
		}
		return e.limit == 0 || w.users < e.limit
	})
	e.file, e.users = w.close(), w.users
	j.final = management.JobCompleted
}

// exportLocation signs a link to j's file, on the host the client called.
func (s *Server) exportLocation(c *call, j *job) string {
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	expires := c.now.Add(exportLinkLifetime).Unix()
	return fmt.Sprintf("%s://%s%s%s/%s.%s.gz?Expires=%d&Key-Pair-Id=%s&Signature=%s",
		scheme, c.r.Host, exportsPath, j.id, tenantName, j.export.format, expires, tenantName, s.exportSignature(j.id, expires))
}

func (s *Server) exportSignature(jobID string, expires int64) string {
	m := hmac.New(sha256.New, s.signKey)
	fmt.Fprintf(m, "export\n%s\n%d", jobID, expires)
	return b64.EncodeToString(m.Sum(nil))
}

// serveExport is GET of a location: no bearer token, only the signature
// and its expiry (403, as a storage service answers, otherwise). The
// faults cut the first downloads off halfway, or find their link expired.
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, exportsPath)
	jobID, name, _ := strings.Cut(rest, "/")
	q := r.URL.Query()
	expires, err := strconv.ParseInt(q.Get("Expires"), 10, 64)
	now := s.clock.Now()

	s.mu.Lock()
	s.advanceJobs(now)
	s.downloadSeq++
	n := s.downloadSeq
	j := s.jobs[jobID]
	f := s.cfg.Faults
	var file []byte
	deny := ""
	switch {
	case r.Method != http.MethodGet:
		deny = "Method not allowed"
	case err != nil || j == nil || j.export == nil || j.export.file == nil ||
		!hmac.Equal([]byte(q.Get("Signature")), []byte(s.exportSignature(jobID, expires))) ||
		name != tenantName+"."+j.export.format+".gz":
		deny = "Access denied"
	case now.Unix() > expires || n <= f.ExpireExportLinks:
		deny = "Request has expired"
	case !now.Before(j.created.Add(jobRetention)):
		deny = "Access denied" // job data is deleted after 24 hours
	default:
		file = j.export.file
	}
	drop := deny == "" && n <= f.ExpireExportLinks+f.DropExportDownloads
	switch {
	case deny != "":
		s.stats.downloadsRefused++
	case drop:
		s.stats.downloadsDropped++
	default:
		s.stats.downloads++
	}
	s.mu.Unlock()

	if deny != "" {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>%s</Message></Error>", deny)
		return
	}
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Length", strconv.Itoa(len(file)))
	w.WriteHeader(http.StatusOK)
	if drop {
		_, _ = w.Write(file[:len(file)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		dropConnection(w)
		return
	}
	_, _ = w.Write(file)
}

// ExportFile returns the users file of export job id, decompressed, as the
// tenant made it when the job completed (for tests), and whether it has one.
func (s *Server) ExportFile(id string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceJobs(s.clock.Now())
	j := s.jobs[id]
	if j == nil || j.export == nil || j.export.file == nil {
		return nil, false
	}
	return gunzip(j.export.file), true
}
