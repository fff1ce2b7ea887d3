package cli_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// A run given --token records the client the token was issued to (its azp
// claim; the token itself never enters the report), and a resume with
// another client on the same domain is refused before any request; the
// same client, by client credentials this time, resumes.
func TestTokenRunIsBoundToItsClient(t *testing.T) {
	sb := sandbox.New(sandbox.Config{JobDelay: -1})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	res, err := http.PostForm(srv.URL+"/oauth/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {"tok-client"}, "client_secret": {"s"}, "audience": {srv.URL + "/api/v2/"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("no token: %v", err)
	}

	dir := t.TempDir()
	in, rep := filepath.Join(dir, "users.csv"), filepath.Join(dir, "run.ndjson")
	if err := os.WriteFile(in, []byte("email\na@example.com\nb@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := chkRun(t, "create", "--domain", host, "--token", tok.AccessToken, "--connection", "Username-Password-Authentication", "--input", in, "--random-password", "--report", rep)
	if r.code != 0 {
		t.Fatalf("create: exit %d\n%s", r.code, r.errOut)
	}
	h, err := report.ReadHeader(rep)
	if err != nil || h.Tenant.ClientID != "tok-client" || h.Tenant.Domain != host {
		t.Fatalf("the report records tenant %+v (%v), want client tok-client on %s", h.Tenant, err, host)
	}
	if b, _ := os.ReadFile(rep); strings.Contains(string(b), strings.Split(tok.AccessToken, ".")[1]) {
		t.Fatal("the token is in the report")
	}

	sent := sb.Stats().Requests
	r = chkRun(t, "create", "--resume", rep, "--domain", host, "--client-id", "other-client", "--client-secret", "s")
	if r.code != 2 || !strings.Contains(r.errOut, "client tok-client") || !strings.Contains(r.errOut, "not "+host+" (client other-client)") {
		t.Fatalf("resume with another client: exit %d, %q; want 2 naming both clients", r.code, r.errOut)
	}
	for k, n := range sb.Stats().Requests {
		if sent[k] != n {
			t.Errorf("the refused resume sent %s", k)
		}
	}

	r = chkRun(t, "create", "--resume", rep, "--domain", "HTTP://"+strings.ToUpper(host)+"/", "--client-id", "tok-client", "--client-secret", "s")
	if r.code != 0 {
		t.Fatalf("resume with the report's client: exit %d, %s", r.code, r.errOut)
	}
}
