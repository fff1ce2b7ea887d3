package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/a0bulk/a0bulk/management"
)

// ErrNotLoopback is CheckAddr's answer for an address that is not on
// loopback: the sandbox accepts any credentials, so it is never exposed.
var ErrNotLoopback = errors.New("the sandbox listens on loopback only")

// CheckAddr reports whether addr is a host:port the sandbox may listen on:
// "localhost" or a loopback IP. It returns net.SplitHostPort's error for a
// malformed address and ErrNotLoopback for any other host.
func CheckAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return ErrNotLoopback
	}
	return nil
}

// Listen checks addr with CheckAddr and listens on it. If addrFile is not
// "", the address actually listened on (a port 0 resolved) is written to it,
// followed by a newline, before Listen returns.
func Listen(addr, addrFile string) (net.Listener, error) {
	if err := CheckAddr(addr); err != nil {
		return nil, fmt.Errorf("sandbox: address %q: %w", addr, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if addrFile != "" {
		if err := os.WriteFile(addrFile, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			ln.Close()
			return nil, fmt.Errorf("sandbox: %w", err)
		}
	}
	return ln, nil
}

// shutdownGrace bounds how long Serve waits for requests in flight once ctx
// is done.
const shutdownGrace = 5 * time.Second

// Serve serves srv on ln until ctx is done, then shuts down gracefully
// (requests in flight get shutdownGrace to finish) and returns nil. It
// closes ln. It logs a line to log (nil: none) when it starts serving and
// when it has stopped. It returns an error only if serving fails.
func Serve(ctx context.Context, ln net.Listener, srv *Server, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	fmt.Fprintf(log, "a0bulk sandbox: listening on http://%s (users: /sandbox/users, stats: /sandbox/stats)\n", ln.Addr())
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("sandbox: %w", err)
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		_ = hs.Shutdown(shut)
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("sandbox: %w", err)
		}
		fmt.Fprintln(log, "a0bulk sandbox: stopped")
		return nil
	}
}

// SeedFile adds the users in an NDJSON file (one management.User per line,
// at least an email, optionally a bcrypt "password_hash"; blank lines are
// skipped) to the tenant's first database connection. A bad line is
// reported as "path:line: …"; the users before it are already added.
func (s *Server) SeedFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	conn := ""
	for _, c := range s.Connections() {
		if c.IsDatabase() {
			conn = c.Name
			break
		}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var u struct {
			management.User
			PasswordHash string `json:"password_hash"`
		}
		if err := json.Unmarshal([]byte(line), &u); err != nil || u.Email == "" {
			return fmt.Errorf("%s:%d: want a JSON user with an email", path, n)
		}
		if u.PasswordHash != "" && !bcryptRE.MatchString(u.PasswordHash) {
			return fmt.Errorf("%s:%d: password_hash is not a bcrypt hash ($2a$ or $2b$)", path, n)
		}
		s.addUser(u.User, conn, u.PasswordHash)
	}
	return sc.Err()
}
