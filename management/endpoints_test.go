package management

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
)

const recordedImportJob = `{"type":"users_import","status":"pending","connection_id":"con_ftSSLHb0O7rcUGmF","connection":"Username-Password-Authentication","created_at":"2023-01-25T17:48:16.543Z","id":"job_6nNLiwFZksN0YmRR"}`

func apiStub(t *testing.T) *stub {
	return newStub(t).handle("POST /oauth/token", tokenHandler(t, 86400, "read:users"))
}

func TestConnectionByName(t *testing.T) {
	for _, form := range []string{"object", "array"} {
		t.Run(form, func(t *testing.T) {
			s := apiStub(t).handle("GET /api/v2/connections", func(w http.ResponseWriter, r *http.Request) {
				conns := []map[string]any{
					{"id": "con_other0000000000", "name": "Username-Password-Authentication-2", "strategy": "auth0"},
					{"id": "con_ftSSLHb0O7rcUGmF", "name": "Username-Password-Authentication", "strategy": "auth0",
						"options": map[string]any{"requires_username": true, "mfa": map[string]any{}}, "realms": []string{"x"}},
				}
				if form == "array" {
					writeJSON(w, 200, conns)
					return
				}
				writeJSON(w, 200, map[string]any{"total": 2, "start": 0, "limit": 50, "connections": conns})
			})
			c, _ := newTestClient(t, s, nil)
			ctx := context.Background()
			for i := 0; i < 2; i++ {
				conn, err := c.ConnectionByName(ctx, "Username-Password-Authentication")
				if err != nil {
					t.Fatal(err)
				}
				if conn.ID != "con_ftSSLHb0O7rcUGmF" || !conn.IsDatabase() || !conn.Options.RequiresUsername {
					t.Fatalf("conn = %+v", conn)
				}
				conn.ID = "mutated" // must not poison the cache
			}
			if n := s.count("GET /api/v2/connections"); n != 1 {
				t.Fatalf("connections read %d times, want 1 (cached)", n)
			}
			q := s.last("GET /api/v2/connections").RawQuery
			if !strings.Contains(q, "name=Username-Password-Authentication") {
				t.Fatalf("query = %q", q)
			}
		})
	}
	t.Run("not found", func(t *testing.T) {
		byName := 0
		s := apiStub(t).handle("GET /api/v2/connections", func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			if q.Has("name") {
				byName++
				writeRaw(200, `{"total":0,"start":0,"limit":50,"connections":[]}`)(w, r)
				return
			}
			if q.Get("strategy") != "auth0" {
				t.Errorf("the listing asks for %q, want strategy=auth0", r.URL.RawQuery)
			}
			// A tenant that ignores the filter: the social one is dropped here.
			writeRaw(200, `{"total":3,"start":0,"limit":100,"connections":[
				{"id":"con_b","name":"Users-B","strategy":"auth0"},
				{"id":"con_g","name":"google-oauth2","strategy":"google-oauth2"},
				{"id":"con_a","name":"Users-A","strategy":"auth0"}]}`)(w, r)
		})
		c, _ := newTestClient(t, s, nil)
		for i := 0; i < 2; i++ {
			_, err := c.ConnectionByName(context.Background(), "nope")
			var nf *ConnectionNotFoundError
			if !errors.Is(err, ErrConnectionNotFound) || !errors.As(err, &nf) {
				t.Fatalf("err = %v", err)
			}
			want := `the tenant has no connection named "nope"; its database connections: Users-A, Users-B`
			if err.Error() != want || !slices.Equal(nf.Database, []string{"Users-A", "Users-B"}) {
				t.Fatalf("err = %v\nwant %s", err, want)
			}
		}
		if byName != 2 {
			t.Fatalf("a miss must not be cached: %d reads", byName)
		}
	})
	t.Run("not found, listing refused", func(t *testing.T) {
		s := apiStub(t).handle("GET /api/v2/connections", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Has("name") {
				writeRaw(200, `[]`)(w, r)
				return
			}
			writeRaw(400, `{"statusCode":400,"error":"Bad Request","message":"bad query","errorCode":"invalid_query_string"}`)(w, r)
		})
		c, _ := newTestClient(t, s, nil)
		_, err := c.ConnectionByName(context.Background(), "nope")
		if !errors.Is(err, ErrConnectionNotFound) || !strings.Contains(err.Error(), "could not be listed") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing scope", func(t *testing.T) {
		s := apiStub(t).handle("GET /api/v2/connections",
			writeRaw(403, `{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: read:connections","errorCode":"insufficient_scope"}`))
		c, _ := newTestClient(t, s, nil)
		_, err := c.ConnectionByName(context.Background(), "db")
		e, ok := AsAPIError(err)
		if !ok {
			t.Fatalf("err = %v", err)
		}
		if sc, ok := e.MissingScope(); !ok || sc != "read:connections" {
			t.Fatalf("MissingScope = %q, %v", sc, ok)
		}
	})
}

func TestImportUsers(t *testing.T) {
	users := []byte(`[{"email":"a@example.com"}]`)
	for _, tt := range []struct {
		req  ImportRequest
		want map[string]string
	}{
		{ImportRequest{ConnectionID: "con_ftSSLHb0O7rcUGmF", Users: users},
			map[string]string{"connection_id": "con_ftSSLHb0O7rcUGmF", "upsert": "false", "send_completion_email": "false"}},
		{ImportRequest{ConnectionID: "con_ftSSLHb0O7rcUGmF", Users: users, Upsert: true, ExternalID: "run-1", SendCompletionEmail: true},
			map[string]string{"connection_id": "con_ftSSLHb0O7rcUGmF", "upsert": "true", "send_completion_email": "true", "external_id": "run-1"}},
	} {
		s := apiStub(t).handle("POST /api/v2/jobs/users-imports", writeRaw(202, recordedImportJob))
		c, _ := newTestClient(t, s, nil)
		job, err := c.ImportUsers(context.Background(), tt.req)
		if err != nil {
			t.Fatal(err)
		}
		if job.ID != "job_6nNLiwFZksN0YmRR" || job.Connection != "Username-Password-Authentication" || job.Status != JobPending {
			t.Fatalf("job = %+v", job)
		}
		rec := s.last("POST /api/v2/jobs/users-imports")
		mt, params, err := mime.ParseMediaType(rec.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" {
			t.Fatalf("content type %q: %v", rec.Header.Get("Content-Type"), err)
		}
		mr := multipart.NewReader(bytes.NewReader(rec.Body), params["boundary"])
		got := map[string]string{}
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(p)
			if p.FormName() == "users" {
				if p.FileName() != "users.json" || p.Header.Get("Content-Type") != "application/json" || !bytes.Equal(b, users) {
					t.Fatalf("users part: filename %q, type %q, body %s", p.FileName(), p.Header.Get("Content-Type"), b)
				}
				continue
			}
			got[p.FormName()] = string(b)
		}
		if len(got) != len(tt.want) {
			t.Fatalf("fields = %v, want %v", got, tt.want)
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("field %s = %q, want %q", k, got[k], v)
			}
		}
	}
}

func TestImportUsersTooLarge(t *testing.T) {
	s := apiStub(t).handle("POST /api/v2/jobs/users-imports", writeRaw(413, `{"statusCode":413,"error":"Request Entity Too Large","message":"Payload content length greater than maximum allowed: 512000"}`))
	c, _ := newTestClient(t, s, nil)
	_, err := c.ImportUsers(context.Background(), ImportRequest{ConnectionID: "con_x", Users: []byte("[]")})
	if !IsTooLarge(err) || !strings.HasPrefix(err.Error(), "starting import job: ") {
		t.Fatalf("err = %v", err)
	}
}

func TestJobAndJobErrors(t *testing.T) {
	s := apiStub(t).
		handle("GET /api/v2/jobs/job_1", writeRaw(200, `{"type":"users_import","status":"completed","connection_id":"con_ftSSLHb0O7rcUGmF","summary":{"failed":1,"updated":0,"inserted":1,"total":2},"connection":"Username-Password-Authentication","created_at":"2023-01-25T17:48:16.543Z","id":"job_1"}`)).
		handle("GET /api/v2/jobs/job_1/errors", writeRaw(200, `[{"user":{"email":"x@example.com"},"errors":[{"code":"DUPLICATED_USER","message":"m"}]}]`)).
		handle("GET /api/v2/jobs/job_2/errors", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }).
		handle("GET /api/v2/jobs/job_3/errors", writeRaw(200, `{"status":"failed","type":"users_import","id":"job_3","status_details":"boom"}`)).
		handle("GET /api/v2/jobs/job_404", writeRaw(404, `{"statusCode":404,"error":"Not Found","message":"The job does not exist.","errorCode":"inexistent_job"}`))
	c, _ := newTestClient(t, s, nil)
	ctx := context.Background()
	job, err := c.Job(ctx, "job_1")
	if err != nil || !job.Done() || job.Summary == nil || job.Summary.Failed != 1 || job.Summary.Total != 2 || job.CreatedAt == nil {
		t.Fatalf("job = %+v, %v", job, err)
	}
	for id, want := range map[string]JobErrorsKind{"job_1": JobErrorsUsers, "job_2": JobErrorsNone, "job_3": JobErrorsFailure} {
		je, err := c.JobErrors(ctx, id)
		if err != nil || je.Kind != want {
			t.Fatalf("JobErrors(%s) = %+v, %v; want %v", id, je, err, want)
		}
	}
	_, err = c.Job(ctx, "job_404")
	if !IsNotFound(err) || !strings.HasPrefix(err.Error(), "reading job job_404: ") {
		t.Fatalf("err = %v", err)
	}
}

func TestUsers(t *testing.T) {
	s := apiStub(t).
		handle("POST /api/v2/users", func(w http.ResponseWriter, r *http.Request) {
			var body map[string]any
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				t.Error(err)
			}
			if body["connection"] != "db" || body["verify_email"] != false || body["password"] != "Pa55word!" {
				t.Errorf("create body = %v", body)
			}
			writeJSON(w, 201, map[string]any{"user_id": "auth0|63d16b633416c557f7d02a3c", "email": "a@example.com",
				"identities":   []map[string]any{{"connection": "db", "user_id": "63d16b633416c557f7d02a3c", "provider": "auth0", "isSocial": false}},
				"logins_count": 0})
		}).
		handle("PATCH /api/v2/users/auth0|63d16b633416c557f7d02a3c", func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if string(b) != `{"given_name":"Ann"}` {
				t.Errorf("patch body = %s", b)
			}
			writeJSON(w, 200, map[string]any{"user_id": "auth0|63d16b633416c557f7d02a3c", "given_name": "Ann"})
		}).
		handle("GET /api/v2/users/auth0|63d16b633416c557f7d02a3c", writeRaw(200, `{"user_id":"auth0|63d16b633416c557f7d02a3c","email":"a@example.com"}`)).
		handle("GET /api/v2/users-by-email", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("email") == "a@example.com" {
				writeRaw(200, `[{"user_id":"auth0|1","email":"a@example.com"}]`)(w, r)
				return
			}
			writeRaw(200, `[]`)(w, r)
		}).
		handle("POST /api/v2/jobs/verification-email", func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			if string(b) != `{"user_id":"auth0|1","client_id":"app"}` {
				t.Errorf("verification body = %s", b)
			}
			writeRaw(201, `{"type":"verification_email","status":"pending","created_at":"2023-04-18T19:25:53.189Z","id":"job_LUdmtO6C0M42uqSz"}`)(w, r)
		})
	c, _ := newTestClient(t, s, nil)
	ctx := context.Background()
	f := false
	u, err := c.CreateUser(ctx, CreateUserRequest{Connection: "db", Email: "a@example.com", Password: "Pa55word!", VerifyEmail: &f})
	if err != nil || u.UserID != "auth0|63d16b633416c557f7d02a3c" || len(u.Identities) != 1 || u.Identities[0].Provider != "auth0" {
		t.Fatalf("created %+v, %v", u, err)
	}
	if u, err = c.UpdateUser(ctx, u.UserID, UpdateUserRequest{GivenName: "Ann"}); err != nil || u.GivenName != "Ann" {
		t.Fatalf("updated %+v, %v", u, err)
	}
	if p := s.last("PATCH /api/v2/users/auth0|63d16b633416c557f7d02a3c").Path; p != "/api/v2/users/auth0%7C63d16b633416c557f7d02a3c" {
		t.Fatalf("id not escaped in path: %s", p)
	}
	if u, err = c.User(ctx, "auth0|63d16b633416c557f7d02a3c"); err != nil || u.Email != "a@example.com" {
		t.Fatalf("read %+v, %v", u, err)
	}
	found, err := c.UsersByEmail(ctx, "  A@Example.COM ")
	if err != nil || len(found) != 1 || found[0].UserID != "auth0|1" {
		t.Fatalf("by email %+v, %v", found, err)
	}
	none, err := c.UsersByEmail(ctx, "nobody@example.com")
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("by email (none) %#v, %v", none, err)
	}
	job, err := c.SendVerificationEmail(ctx, VerificationEmailRequest{UserID: "auth0|1", ClientID: "app"})
	if err != nil || job.ID != "job_LUdmtO6C0M42uqSz" || job.Type != "verification_email" {
		t.Fatalf("verification %+v, %v", job, err)
	}
}

func TestCreateUserConflict(t *testing.T) {
	s := apiStub(t).handle("POST /api/v2/users", writeRaw(409, `{"statusCode":409,"error":"Conflict","message":"The user already exists.","errorCode":"auth0_idp_error"}`))
	c, _ := newTestClient(t, s, nil)
	_, err := c.CreateUser(context.Background(), CreateUserRequest{Connection: "db", Email: "a@example.com", Password: "Pa55word!"})
	if !IsConflict(err) || err.Error() != "creating user: 409 Conflict: The user already exists. (auth0_idp_error)" {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "Pa55word!") {
		t.Fatal("password in the error")
	}
}
