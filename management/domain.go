package management

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ErrInvalidConfig marks a Config that New refused before any network call;
// the CLI maps it to the usage/configuration exit code.
var ErrInvalidConfig = errors.New("invalid management client configuration")

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}

// tenantURL is the parsed Domain: the scheme and host every URL is built on.
type tenantURL struct {
	scheme string // "https", or "http" for a loopback host only
	host   string // host[:port] as it goes into URLs
}

func (t tenantURL) String() string { return t.scheme + "://" + t.host }

// parseDomain accepts "acme.eu.auth0.com", "https://acme.eu.auth0.com[/]",
// and loopback "host:port" (127.0.0.1, localhost, [::1]), which means plain
// HTTP because that is the sandbox. Plain HTTP to anything else would send
// the client secret and tokens in clear text, so it is refused.
func parseDomain(domain string) (tenantURL, error) {
	d := strings.TrimSpace(domain)
	if d == "" {
		return tenantURL{}, configError("domain is empty")
	}
	explicit := ""
	if i := strings.Index(d, "://"); i >= 0 {
		explicit = strings.ToLower(d[:i])
		if explicit != "http" && explicit != "https" {
			return tenantURL{}, configError("domain %q: scheme must be https", domain)
		}
	} else {
		d = "placeholder://" + d
	}
	u, err := url.Parse(d)
	if err != nil {
		return tenantURL{}, configError("domain %q is not a host name", domain)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return tenantURL{}, configError("domain %q must be a bare host (e.g. acme.eu.auth0.com)", domain)
	}
	host := u.Hostname()
	if host == "" || strings.ContainsAny(host, " \t/\\") {
		return tenantURL{}, configError("domain %q is not a host name", domain)
	}
	if p := u.Port(); p == "" && strings.HasSuffix(u.Host, ":") {
		return tenantURL{}, configError("domain %q has an empty port", domain)
	}
	loop := isLoopback(host)
	scheme := "https"
	switch {
	case explicit == "http" && !loop:
		return tenantURL{}, configError("domain %q: plain http is only allowed on loopback (127.0.0.1, localhost, [::1]); use https", domain)
	case explicit == "http", explicit == "" && loop:
		scheme = "http"
	}
	return tenantURL{scheme: scheme, host: strings.ToLower(u.Host)}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseCustomDomain accepts a bare host name (a scheme is tolerated and
// dropped): the header carries a host, never a URL.
func parseCustomDomain(s string) (string, error) {
	d := strings.TrimSpace(s)
	if d == "" {
		return "", nil
	}
	low := strings.ToLower(d)
	for _, p := range []string{"https://", "http://"} {
		if strings.HasPrefix(low, p) {
			d = d[len(p):]
			break
		}
	}
	d = strings.TrimSuffix(d, "/")
	if d == "" || strings.ContainsAny(d, "/?#@ \t\r\n:") {
		return "", configError("custom domain %q must be a host name such as login.acme.com", s)
	}
	return strings.ToLower(d), nil
}
