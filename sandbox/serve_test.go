package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/management"
)

func TestCheckAddr(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "127.0.0.1:8787", "127.5.6.7:80", "localhost:8787", "[::1]:0"} {
		if err := CheckAddr(addr); err != nil {
			t.Errorf("CheckAddr(%q) = %v, want nil", addr, err)
		}
	}
	for _, addr := range []string{"0.0.0.0:8787", ":8787", "[::]:0", "10.0.0.1:80", "example.com:80", "localhost.example.com:80"} {
		if err := CheckAddr(addr); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("CheckAddr(%q) = %v, want ErrNotLoopback", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1", "localhost", ""} {
		if err := CheckAddr(addr); err == nil || errors.Is(err, ErrNotLoopback) {
			t.Errorf("CheckAddr(%q) = %v, want a malformed-address error", addr, err)
		}
	}
}

func TestListenRefusesNonLoopback(t *testing.T) {
	addrFile := filepath.Join(t.TempDir(), "addr")
	ln, err := Listen("0.0.0.0:0", addrFile)
	if ln != nil {
		ln.Close()
	}
	if !errors.Is(err, ErrNotLoopback) {
		t.Fatalf("Listen = %v, want ErrNotLoopback", err)
	}
	if _, err := os.Stat(addrFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("addr file written for a refused address: %v", err)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSeedFile(t *testing.T) {
	p := writeFile(t, "users.ndjson", `{"email":"Ann@Example.com","name":"Ann"}

   
{"email":"bob@example.com","user_id":"auth0|bob"}
`)
	s := New(Config{})
	if err := s.SeedFile(p); err != nil {
		t.Fatalf("SeedFile: %v", err)
	}
	users := s.Users()
	if len(users) != 2 {
		t.Fatalf("users = %+v, want 2", users)
	}
	if u := users[0]; u.Email != "ann@example.com" || u.Name != "Ann" || u.Connection != "Username-Password-Authentication" || u.UserID == "" {
		t.Errorf("first user = %+v", u)
	}
	if u := users[1]; u.Email != "bob@example.com" || u.UserID != "auth0|bob" || u.Connection != "Username-Password-Authentication" {
		t.Errorf("second user = %+v", u)
	}
}

func TestSeedFileBadLine(t *testing.T) {
	for name, bad := range map[string]string{
		"not JSON": `{"email":`,
		"no email": `{"name":"nobody"}`,
		"array":    `["a@example.com"]`,
	} {
		// Blank lines count: the bad one is line 4.
		p := writeFile(t, "users.ndjson", "{\"email\":\"a@example.com\"}\n\n  \n"+bad+"\n{\"email\":\"b@example.com\"}\n")
		s := New(Config{})
		err := s.SeedFile(p)
		want := p + ":4: want a JSON user with an email"
		if err == nil || err.Error() != want {
			t.Errorf("%s: SeedFile = %v, want %q", name, err, want)
		}
		if n := len(s.Users()); n != 1 {
			t.Errorf("%s: %d users seeded, want the 1 before the bad line", name, n)
		}
	}
}

func TestSeedFileMissing(t *testing.T) {
	err := New(Config{}).SeedFile(filepath.Join(t.TempDir(), "nope.ndjson"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SeedFile = %v, want ErrNotExist", err)
	}
}

func TestListenAndServe(t *testing.T) {
	addrFile := filepath.Join(t.TempDir(), "addr")
	ln, err := Listen("127.0.0.1:0", addrFile)
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if b, err := os.ReadFile(addrFile); err != nil || string(b) != addr+"\n" {
		t.Fatalf("addr file = %q, %v; want %q", b, err, addr+"\n")
	}
	if strings.HasSuffix(addr, ":0") {
		t.Fatalf("addr %s: port 0 not resolved", addr)
	}

	srv := New(Config{})
	srv.AddUser(management.User{Email: "seeded@example.com"}, "Username-Password-Authentication")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, srv, &log) }()

	// The listener is open already: the request waits in its backlog until
	// Serve accepts it.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get("http://" + addr + "/sandbox/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st Stats
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || st.Users != 1 {
		t.Fatalf("GET /sandbox/stats: %d %+v %v", resp.StatusCode, st, err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve = %v, want nil after cancel", err)
	}
	want := "a0bulk sandbox: listening on http://" + addr + " (users: /sandbox/users, stats: /sandbox/stats)\n" +
		"a0bulk sandbox: stopped\n"
	if log.String() != want {
		t.Errorf("log = %q, want %q", log.String(), want)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Serve returned", addr)
	}
}

func TestServeReportsAFailedListener(t *testing.T) {
	ln, err := Listen("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	var log bytes.Buffer
	err = Serve(context.Background(), ln, New(Config{}), &log)
	if err == nil || !strings.HasPrefix(err.Error(), "sandbox: ") || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve = %v, want sandbox: …closed…", err)
	}
	if strings.Contains(log.String(), "stopped") {
		t.Errorf("log = %q: a failure is not a stop", log.String())
	}
}

func TestServeNilLog(t *testing.T) {
	ln, err := Listen("localhost:0", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Serve(ctx, ln, New(Config{}), nil); err != nil {
		t.Errorf("Serve = %v", err)
	}
}
