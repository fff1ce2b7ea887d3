package management_test

// Client against the sandbox tenant, through a real HTTP server on loopback.
// An external test package: the sandbox imports management.

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/sandbox"
	"github.com/a0bulk/a0bulk/throttle"
)

const (
	sbSecret = "sandbox-Secret-7fQ2!unique"
	dbConn   = "Username-Password-Authentication"
)

var sbStart = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

type tenant struct {
	srv    *sandbox.Server
	http   *httptest.Server
	clock  *clock.Fake
	client *management.Client
}

// newTenant serves a sandbox on loopback and builds a client for it; both
// share one fake clock unless mod gives the client its own.
func newTenant(t *testing.T, sc sandbox.Config, mod func(*management.Config)) *tenant {
	t.Helper()
	fc := clock.NewFake(sbStart)
	if sc.Clock == nil {
		sc.Clock = fc
	}
	if sc.ClientID == "" {
		sc.ClientID, sc.ClientSecret = "cid", sbSecret
	}
	srv := sandbox.New(sc)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cfg := management.Config{
		Domain:       hs.Listener.Addr().String(), // 127.0.0.1:port: plain http
		ClientID:     "cid",
		ClientSecret: sbSecret,
		Base:         hs.Client().Transport,
		Throttle:     throttle.Options{Rate: 1e6, Burst: 1e6, MaxRetries: -1, Clock: clock.Real{}},
		Clock:        fc,
		Version:      "test",
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := management.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &tenant{srv: srv, http: hs, clock: fc, client: c}
}

func TestSandboxImportFlow(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDelay: 10 * time.Second}, nil)
	c, ctx := tn.client, context.Background()

	info, err := c.TokenInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(info.Scopes, sandbox.DefaultScopes) || !info.Expiry.Equal(sbStart.Add(86400*time.Second)) {
		t.Fatalf("token info = %+v", info)
	}

	conn, err := c.ConnectionByName(ctx, dbConn)
	if err != nil {
		t.Fatal(err)
	}
	if want := tn.srv.Connections()[0]; conn.ID != want.ID || !conn.IsDatabase() {
		t.Fatalf("connection = %+v, want %+v", conn, want)
	}
	if _, err := c.ConnectionByName(ctx, "nope"); !errors.Is(err, management.ErrConnectionNotFound) {
		t.Fatalf("missing connection: %v", err)
	}

	users := []byte(`[{"email":"a@example.com","given_name":"A"},{"email":"b@example.com"}]`)
	job, err := c.ImportUsers(ctx, management.ImportRequest{ConnectionID: conn.ID, Users: users, ExternalID: "run-1"})
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != management.JobPending || job.Connection != dbConn || job.ExternalID != "run-1" {
		t.Fatalf("job = %+v", job)
	}
	tn.clock.Advance(20 * time.Second)
	done, err := c.Job(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != management.JobCompleted || done.Summary == nil || done.Summary.Inserted != 2 {
		t.Fatalf("done = %+v", done)
	}
	je, err := c.JobErrors(ctx, job.ID)
	if err != nil || je.Kind != management.JobErrorsNone {
		t.Fatalf("errors = %+v, %v", je, err)
	}

	// The same users again without upsert: per-user DUPLICATED_USER.
	again, err := c.ImportUsers(ctx, management.ImportRequest{ConnectionID: conn.ID, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	tn.clock.Advance(20 * time.Second)
	je, err = c.JobErrors(ctx, again.ID)
	if err != nil || je.Kind != management.JobErrorsUsers || len(je.Users) != 2 {
		t.Fatalf("errors = %+v, %v", je, err)
	}
	if u := je.Users[0]; u.User.Email != "a@example.com" || u.Errors[0].Code != "DUPLICATED_USER" {
		t.Fatalf("user error = %+v", u)
	}

	if _, err := c.Job(ctx, "job_0000000000000000"); !management.IsNotFound(err) {
		t.Fatalf("missing job: %v", err)
	}
}

func TestSandboxJobLimitAndTooLarge(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDelay: time.Hour, MaxFileBytes: 1000}, nil)
	c, ctx := tn.client, context.Background()
	conn, err := c.ConnectionByName(ctx, dbConn)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := c.ImportUsers(ctx, management.ImportRequest{ConnectionID: conn.ID, Users: []byte(`[{"email":"x@example.com"}]`)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.ImportUsers(ctx, management.ImportRequest{ConnectionID: conn.ID, Users: []byte(`[{"email":"y@example.com"}]`)})
	if !management.IsJobLimit(err) || management.IsRateLimited(err) {
		t.Fatalf("third job: %v", err)
	}
	big := []byte(`[{"email":"z@example.com","name":"` + strings.Repeat("n", 2000) + `"}]`)
	if _, err := c.ImportUsers(ctx, management.ImportRequest{ConnectionID: conn.ID, Users: big}); !management.IsTooLarge(err) {
		t.Fatalf("big file: %v", err)
	}
	if st := tn.srv.Stats(); st.JobLimitRefused != 1 {
		t.Fatalf("job-limit refusals = %d, want 1 (never retried)", st.JobLimitRefused)
	}
}

func TestSandboxUsersAndCustomDomain(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDelay: -1}, func(c *management.Config) { c.CustomDomain = "login.example.com" })
	c, ctx := tn.client, context.Background()
	f := false
	u, err := c.CreateUser(ctx, management.CreateUserRequest{Connection: dbConn, Email: "Ann@Example.com", Password: "Pa55word!x", VerifyEmail: &f})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.UserID, "auth0|") {
		t.Fatalf("user = %+v", u)
	}
	_, err = c.CreateUser(ctx, management.CreateUserRequest{Connection: dbConn, Email: "ann@example.com", Password: "Pa55word!x", VerifyEmail: &f})
	if !management.IsConflict(err) {
		t.Fatalf("second create: %v", err)
	}
	found, err := c.UsersByEmail(ctx, "ANN@example.com")
	if err != nil || len(found) != 1 || found[0].UserID != u.UserID {
		t.Fatalf("by email: %+v, %v", found, err)
	}
	if none, err := c.UsersByEmail(ctx, "nobody@example.com"); err != nil || len(none) != 0 {
		t.Fatalf("by email (none): %+v, %v", none, err)
	}
	if up, err := c.UpdateUser(ctx, u.UserID, management.UpdateUserRequest{GivenName: "Ann"}); err != nil || up.GivenName != "Ann" {
		t.Fatalf("update: %+v, %v", up, err)
	}
	if got, err := c.User(ctx, u.UserID); err != nil || got.GivenName != "Ann" {
		t.Fatalf("read: %+v, %v", got, err)
	}
	if _, err := c.User(ctx, "auth0|000000000000000000000000"); !management.IsNotFound(err) {
		t.Fatalf("missing user: %v", err)
	}
	job, err := c.SendVerificationEmail(ctx, management.VerificationEmailRequest{UserID: u.UserID})
	if err != nil || job.Type != "verification_email" {
		t.Fatalf("verification: %+v, %v", job, err)
	}
	conn, err := c.ConnectionByName(ctx, dbConn)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := c.ImportUsers(ctx, management.ImportRequest{ConnectionID: conn.ID, Users: []byte(`[{"email":"b@example.com"}]`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.JobErrors(ctx, imp.ID); err != nil {
		t.Fatal(err)
	}

	st := tn.srv.Stats()
	if len(st.CustomDomainViolations) != 0 {
		t.Fatalf("header sent where it is not accepted: %+v", st.CustomDomainViolations)
	}
	if len(st.VerificationEmails) != 1 || st.VerificationEmails[0].CustomDomain != "login.example.com" {
		t.Fatalf("verification emails = %+v", st.VerificationEmails)
	}
	for _, k := range []string{"POST /api/v2/users", "PATCH /api/v2/users/{id}", "POST /api/v2/jobs/verification-email"} {
		if st.CustomDomainHeaders[k] == 0 {
			t.Errorf("no custom domain header on %s: %v", k, st.CustomDomainHeaders)
		}
	}
	if st.ImplicitVerificationEmails != 0 {
		t.Fatalf("implicit verification emails = %d", st.ImplicitVerificationEmails)
	}
	if limit, _, _, ok := c.Headroom(); !ok || limit <= 0 {
		t.Fatalf("headroom = %d, %v", limit, ok)
	}
}

func TestSandboxMissingScope(t *testing.T) {
	tn := newTenant(t, sandbox.Config{Scopes: []string{"read:users"}}, nil)
	_, err := tn.client.ConnectionByName(context.Background(), dbConn)
	e, ok := management.AsAPIError(err)
	if !ok {
		t.Fatalf("err = %v", err)
	}
	if s, ok := e.MissingScope(); !ok || s != "read:connections" {
		t.Fatalf("MissingScope = %q, %v (%v)", s, ok, err)
	}
}

func TestSandboxTokenRefresh(t *testing.T) {
	t.Run("before expiry", func(t *testing.T) {
		tn := newTenant(t, sandbox.Config{TokenLifetime: 100 * time.Second}, nil)
		ctx := context.Background()
		for i := 0; i < 12; i++ { // 0s … 110s: past the first token's expiry
			if _, err := tn.client.UsersByEmail(ctx, "a@example.com"); err != nil {
				t.Fatalf("at %v: %v", tn.clock.Now().Sub(sbStart), err)
			}
			tn.clock.Advance(10 * time.Second)
		}
		st := tn.srv.Stats()
		if n := st.Requests["POST /oauth/token"]; n != 2 {
			t.Fatalf("token requests = %d, want 2", n)
		}
		if n := st.Requests["GET /api/v2/users-by-email"]; n != 12 {
			t.Fatalf("API requests = %d, want 12 (no 401 retries)", n)
		}
	})
	t.Run("after a 401", func(t *testing.T) {
		// The client's clock lags the tenant's: the tenant expires the token
		// while the client still trusts it, answers 401, and the client
		// refetches once.
		clientClock := clock.NewFake(sbStart)
		tn := newTenant(t, sandbox.Config{TokenLifetime: 100 * time.Second}, func(c *management.Config) { c.Clock = clientClock })
		ctx := context.Background()
		if _, err := tn.client.UsersByEmail(ctx, "a@example.com"); err != nil {
			t.Fatal(err)
		}
		tn.clock.Advance(200 * time.Second)
		if _, err := tn.client.UsersByEmail(ctx, "a@example.com"); err != nil {
			t.Fatal(err)
		}
		st := tn.srv.Stats()
		if n := st.Requests["POST /oauth/token"]; n != 2 {
			t.Fatalf("token requests = %d, want 2", n)
		}
		if n := st.Requests["GET /api/v2/users-by-email"]; n != 3 {
			t.Fatalf("API requests = %d, want 3 (one 401, one retry)", n)
		}
	})
}

func TestSandboxBadCredentials(t *testing.T) {
	wrong := "wrong-" + sbSecret + "-distinct"
	tn := newTenant(t, sandbox.Config{}, func(c *management.Config) { c.ClientSecret = wrong })
	_, err := tn.client.UsersByEmail(context.Background(), "a@example.com")
	var te *management.TokenError
	if !errors.As(err, &te) || !te.IsAuthFailure() {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), sbSecret) {
		t.Fatalf("secret in error: %v", err)
	}
}
