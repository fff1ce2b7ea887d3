package management

import (
	"errors"
	"strings"
	"testing"
)

func TestParseDomain(t *testing.T) {
	tests := []struct {
		in, want string // want "" means an error
	}{
		{"acme.eu.auth0.com", "https://acme.eu.auth0.com"},
		{"  Acme.EU.auth0.com ", "https://acme.eu.auth0.com"},
		{"https://acme.eu.auth0.com", "https://acme.eu.auth0.com"},
		{"https://acme.eu.auth0.com/", "https://acme.eu.auth0.com"},
		{"acme.eu.auth0.com:8443", "https://acme.eu.auth0.com:8443"},
		{"127.0.0.1:8787", "http://127.0.0.1:8787"},
		{"localhost:8787", "http://localhost:8787"},
		{"LOCALHOST:8787", "http://localhost:8787"},
		{"[::1]:8787", "http://[::1]:8787"},
		{"127.0.0.2:9000", "http://127.0.0.2:9000"},
		{"http://127.0.0.1:8787", "http://127.0.0.1:8787"},
		{"http://localhost:8787/", "http://localhost:8787"},
		{"https://127.0.0.1:8787", "https://127.0.0.1:8787"},
		{"http://example.com", ""},
		{"http://acme.eu.auth0.com", ""},
		{"http://10.0.0.1:8787", ""},
		{"ftp://acme.eu.auth0.com", ""},
		{"", ""},
		{"   ", ""},
		{"acme.eu.auth0.com/api/v2", ""},
		{"https://acme.eu.auth0.com?x=1", ""},
		{"https://user@acme.eu.auth0.com", ""},
		{"acme.eu.auth0.com:", ""},
	}
	for _, tt := range tests {
		got, err := parseDomain(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("parseDomain(%q) = %v, want an error", tt.in, got)
			} else if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("parseDomain(%q) error %v does not wrap ErrInvalidConfig", tt.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseDomain(%q): %v", tt.in, err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("parseDomain(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseCustomDomain(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"", "", ""},
		{"login.acme.com", "login.acme.com", ""},
		{"https://Login.Acme.com/", "login.acme.com", ""},
		{"login.acme.com/path", "", "must be a host"},
		{"login acme", "", "must be a host"},
		{"login.acme.com:443", "", "must be a host"},
	}
	for _, tt := range tests {
		got, err := parseCustomDomain(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("parseCustomDomain(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseCustomDomain(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNewValidatesBeforeAnyCall(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"plain http to a real host", Config{Domain: "http://example.com", Token: "x"}, "plain http"},
		{"no credentials", Config{Domain: testDomain}, "need a token"},
		{"id without secret", Config{Domain: testDomain, ClientID: "cid"}, "need a token"},
		{"bad audience", Config{Domain: testDomain, Token: "x", Audience: "not a url"}, "audience"},
		{"bad custom domain", Config{Domain: testDomain, Token: "x", CustomDomain: "a/b"}, "custom domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Base = newStub(t) // any call fails the test
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New err = %v, want ErrInvalidConfig mentioning %q", err, tt.want)
			}
		})
	}
	for _, d := range []string{"127.0.0.1:8787", "localhost:8787", "[::1]:8787", testDomain} {
		if _, err := New(Config{Domain: d, Token: "x", Base: newStub(t)}); err != nil {
			t.Errorf("New(%q): %v", d, err)
		}
	}
}

func TestNewErrorNeverShowsSecret(t *testing.T) {
	_, err := New(Config{Domain: "http://example.com", ClientID: "cid", ClientSecret: testSecret, Base: newStub(t)})
	if err == nil || strings.Contains(err.Error(), testSecret) {
		t.Fatalf("err = %v", err)
	}
}
