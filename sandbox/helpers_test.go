package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// t0 is the recorded job's created_at, so recorded bodies compare exactly.
var t0 = time.Date(2023, 1, 25, 17, 48, 16, 543000000, time.UTC)

type env struct {
	t     *testing.T
	clk   *clock.Fake
	s     *Server
	ts    *httptest.Server
	hc    *http.Client
	token string
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	clk := clock.NewFake(t0)
	cfg.Clock = clk
	s := New(cfg)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	e := &env{t: t, clk: clk, s: s, ts: ts,
		// No keep-alive: a dropped connection must not be retried on another.
		hc: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
	e.token = e.fetchToken()
	return e
}

func (e *env) audience() string {
	return "http://" + strings.TrimPrefix(e.ts.URL, "http://") + "/api/v2/"
}

func (e *env) fetchToken() string {
	e.t.Helper()
	id, secret := orDefault(e.s.cfg.ClientID, "cid"), orDefault(e.s.cfg.ClientSecret, "sec")
	res, body := e.raw(http.MethodPost, "/oauth/token", "application/json",
		`{"grant_type":"client_credentials","client_id":"`+id+`","client_secret":"`+secret+`","audience":"`+e.audience()+`"}`, nil)
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("token: %d %s", res.StatusCode, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	mustUnmarshal(e.t, body, &tr)
	return tr.AccessToken
}

// raw sends a request; hdr may set headers (Authorization is not added).
func (e *env) raw(method, path, contentType, body string, hdr map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	res, b, err := e.try(method, path, contentType, body, hdr)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return res, b
}

func (e *env) try(method, path, contentType, body string, hdr map[string]string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := e.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, b, err
}

// api sends an authenticated JSON request.
func (e *env) api(method, path, body string) (*http.Response, []byte) {
	e.t.Helper()
	return e.raw(method, path, "application/json", body, map[string]string{"Authorization": "Bearer " + e.token})
}

func (e *env) apiTry(method, path, body string, hdr map[string]string) (*http.Response, []byte, error) {
	h := map[string]string{"Authorization": "Bearer " + e.token}
	for k, v := range hdr {
		h[k] = v
	}
	return e.try(method, path, "application/json", body, h)
}

func (e *env) connID(name string) string {
	for _, c := range e.s.Connections() {
		if c.Name == name {
			return c.ID
		}
	}
	e.t.Fatalf("no connection %q", name)
	return ""
}

const upa = "Username-Password-Authentication"

// multipartBody builds an import request body.
func multipartBody(t *testing.T, users string, fields map[string]string) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("users", "users.json")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write([]byte(users))
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), buf.String()
}

// importUsers posts an import of users into Username-Password-Authentication.
func (e *env) importUsers(users string, fields map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	f := map[string]string{"connection_id": e.connID(upa)}
	for k, v := range fields {
		f[k] = v
	}
	ct, body := multipartBody(e.t, users, f)
	return e.raw(http.MethodPost, "/api/v2/jobs/users-imports", ct, body, map[string]string{"Authorization": "Bearer " + e.token})
}

func (e *env) importJob(users string, fields map[string]string) string {
	e.t.Helper()
	res, body := e.importUsers(users, fields)
	if res.StatusCode != http.StatusAccepted {
		e.t.Fatalf("import: %d %s", res.StatusCode, body)
	}
	var j struct {
		ID string `json:"id"`
	}
	mustUnmarshal(e.t, body, &j)
	return j.ID
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
}

var jobIDInBody = regexp.MustCompile(`"id":"job_[A-Za-z0-9]{16}"`)

// sameJSON compares after normalising job ids to the recorded one.
func sameJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	g := jobIDInBody.ReplaceAllString(string(got), `"id":"job_6nNLiwFZksN0YmRR"`)
	if g != want {
		t.Errorf("body\n got %s\nwant %s", g, want)
	}
}

func wantStatus(t *testing.T, res *http.Response, body []byte, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("status %d, want %d: %s", res.StatusCode, want, body)
	}
}
