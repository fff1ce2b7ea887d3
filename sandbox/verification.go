package sandbox

import (
	"net/http"
	"time"

	"github.com/a0bulk/a0bulk/management"
)

// kindVerifyFail is the fault kind of a verification job that ends failed.
const kindVerifyFail = "verification_failed"

// postVerification is POST /api/v2/jobs/verification-email. Like Auth0's, the
// job is only a request: it is answered pending (the recorded 201), reads
// pending for JobDelay by the tenant's clock, then completed — or, with
// Faults.FailVerification, failed with no status_details, as Auth0's may.
// Callers hold s.mu.
func (s *Server) postVerification(c *call) response {
	var req management.VerificationEmailRequest
	if err := decodeStrict(c.body, &req); err != nil {
		return payloadFromDecode(err)
	}
	if req.UserID == "" {
		return payloadError("Missing required property: user_id")
	}
	if s.users.byID(req.UserID) == nil {
		return userNotFound()
	}
	created := c.now.UTC().Truncate(time.Millisecond)
	j := &job{id: "job_" + s.alnum(16), typ: typeVerification, created: created, doneAt: created.Add(s.cfg.JobDelay),
		failVerify: s.roll(kindVerifyFail, s.requestOf(c), s.cfg.Faults.FailVerification)}
	s.addJob(j)
	s.stats.verifications = append(s.stats.verifications,
		VerificationEmail{UserID: req.UserID, JobID: j.id, CustomDomain: c.domain, Failed: j.failVerify})
	return reply(http.StatusCreated, jobView{Type: j.typ, Status: management.JobPending, CreatedAt: timestamp(created), ID: j.id})
}

// finishVerification ends a verification job at its doneAt (called by
// finish, with s.mu held). A failed one carries no status_details: the
// recorded failure of a verification job has none.
func finishVerification(j *job) {
	j.final = management.JobCompleted
	if j.failVerify {
		j.final = management.JobFailed
	}
}

// requestOf is the identity gate gave c's request (identify has counted it
// already), so that the verification fault, like the others, is a pure
// function of the seed and the request: the same user's next request gets a
// fresh decision. Callers hold s.mu.
func (s *Server) requestOf(c *call) reqID {
	k := reqKey{method: c.r.Method, uri: c.r.URL.RequestURI(), body: contentHash(c.r.Header.Get("Content-Type"), c.body)}
	return reqID{reqKey: k, n: s.seen[k] - 1}
}
