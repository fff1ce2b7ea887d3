package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/preflight"
	"github.com/a0bulk/a0bulk/run"
	"github.com/a0bulk/a0bulk/throttle"
)

// tenantOptions says how to reach the tenant. Validated before any request.
type tenantOptions struct {
	Domain       string
	ClientID     string
	ClientSecret string
	Token        string
	Audience     string
	Rate         float64
	MaxRetries   int
	MaxWait      time.Duration
	CustomDomain string
	// Yes skips the confirmation a terminal run asks before it writes
	// (--yes, A0BULK_YES); commands without the flag never ask.
	Yes bool
}

func readTenant(c *ucli.Context, s *IOStreams) (tenantOptions, error) {
	return readTenantSide(c, s, oneTenant)
}

// tenantSide names the flags and environment variables that reach one
// tenant: the plain ones (--domain, AUTH0_DOMAIN) of every command, or a
// migrate's source and target (--from, --from-client-id,
// AUTH0_CLIENT_ID_FROM; --to, …_TO).
type tenantSide struct {
	domainFlag string // the domain's flag: domain, from, to
	prefix     string // of the other flags: "", "from-", "to-"
	suffix     string // of the environment variables: "", "_FROM", "_TO"
}

var (
	oneTenant    = tenantSide{domainFlag: "domain"}
	sourceTenant = tenantSide{domainFlag: "from", prefix: "from-", suffix: "_FROM"}
	targetTenant = tenantSide{domainFlag: "to", prefix: "to-", suffix: "_TO"}
)

// flag is the side's flag of kind (a plain flag's name).
func (n tenantSide) flag(kind string) string {
	if kind == "domain" {
		return n.domainFlag
	}
	return n.prefix + kind
}

// env is the side's environment variable for a plain one (AUTH0_DOMAIN).
func (n tenantSide) env(plain string) string { return plain + n.suffix }

// readTenantSide reads how to reach the tenant of side n.
func readTenantSide(c *ucli.Context, s *IOStreams, n tenantSide) (tenantOptions, error) {
	t := tenantOptions{
		Domain:     strings.TrimSpace(c.String(n.flag("domain"))),
		ClientID:   c.String(n.flag("client-id")),
		Token:      c.String(n.flag("token")),
		Audience:   c.String(n.flag("audience")),
		Rate:       c.Float64("rate"),
		MaxRetries: c.Int("max-retries"),
		MaxWait:    c.Duration("max-wait"),
		Yes:        c.Bool("yes"),
	}
	if c.IsSet("custom-domain") {
		t.CustomDomain = c.String("custom-domain")
	}
	if t.Domain == "" {
		return t, usagef("--%s (or %s) is required", n.flag("domain"), n.env("AUTH0_DOMAIN"))
	}
	if t.Rate < 0 || (c.IsSet("rate") && t.Rate == 0) {
		return t, usagef("--rate must be positive, got %g (leave it out to learn the tenant's rate from its x-ratelimit headers)", t.Rate)
	}
	if t.MaxRetries < 0 {
		return t, usagef("--max-retries must not be negative, got %d", t.MaxRetries)
	}
	if t.MaxWait < 0 {
		return t, usagef("--max-wait must not be negative")
	}
	secretFlag, fileFlag, tokenFlag := n.flag("client-secret"), n.flag("client-secret-file"), n.flag("token")
	secret, file := c.String(secretFlag), c.String(fileFlag)
	// Flags override the environment (and so the config file): a credential
	// given on the command line sets aside the other kinds that come only
	// from the environment, instead of colliding with them.
	flagSecret := fromFlag(c, secretFlag, n.env("AUTH0_CLIENT_SECRET"))
	flagFile := fromFlag(c, fileFlag, n.env("AUTH0_CLIENT_SECRET_FILE"))
	flagToken := fromFlag(c, tokenFlag, n.env("AUTH0_TOKEN"))
	if flagSecret || flagFile || flagToken {
		if !flagSecret {
			secret = ""
		}
		if !flagFile {
			file = ""
		}
		if !flagToken {
			t.Token = ""
		}
		if flagToken && !fromFlag(c, n.flag("client-id"), n.env("AUTH0_CLIENT_ID")) {
			t.ClientID = ""
		}
	}
	if file != "" {
		if secret != "" {
			return t, usagef("give --%s or --%s, not both", secretFlag, fileFlag)
		}
		f, err := os.Open(file)
		if err != nil {
			return t, usagef("--%s: %w", fileFlag, err)
		}
		warnIfReadableByOthers(f, file, s)
		b, err := readSmall(f, 4096)
		f.Close()
		if err != nil {
			return t, usagef("--%s %s: %w", fileFlag, file, err)
		}
		secret = strings.TrimSpace(string(b))
		if secret == "" {
			return t, usagef("--%s %s is empty", fileFlag, file)
		}
	}
	t.ClientSecret = secret
	switch {
	case t.Token != "" && (t.ClientID != "" || secret != ""):
		return t, usagef("give either --%s or --%s with a secret, not both", tokenFlag, n.flag("client-id"))
	case t.Token == "" && (t.ClientID == "" || secret == ""):
		return t, usagef("credentials missing: give --%s and --%s (or --%s), or --%s", n.flag("client-id"), secretFlag, fileFlag, tokenFlag)
	}
	return t, nil
}

// fromFlag reports whether name was given on the command line rather than
// only by its environment variable (urfave's IsSet does not tell them apart).
// A flag repeating the environment's value counts as the environment's.
func fromFlag(c *ucli.Context, name, env string) bool {
	if !c.IsSet(name) {
		return false
	}
	v, ok := os.LookupEnv(env)
	return !ok || v != c.String(name)
}

// onCommandLine is fromFlag for any flag: false when its value came only
// from one of its environment variables (a shared config file sets those
// for every command).
func onCommandLine(c *ucli.Context, name string) bool {
	if !c.IsSet(name) {
		return false
	}
	for _, f := range c.Command.Flags {
		ev, ok := f.(interface{ GetEnvVars() []string })
		if !ok || !slices.Contains(f.Names(), name) {
			continue
		}
		for _, env := range ev.GetEnvVars() {
			if v, set := os.LookupEnv(env); set && v == fmt.Sprint(c.Value(name)) {
				return false
			}
		}
	}
	return true
}

// client builds the Management API client; a bad domain (plain http off
// loopback, a malformed host) is a usage error, found before any request.
func (t tenantOptions) client(log *slog.Logger, verbose bool) (*management.Client, error) {
	cfg := management.Config{
		Domain:       t.Domain,
		ClientID:     t.ClientID,
		ClientSecret: t.ClientSecret,
		Token:        t.Token,
		Audience:     t.Audience,
		CustomDomain: t.CustomDomain,
		Version:      Version,
		Throttle: throttle.Options{
			Rate:       t.Rate,
			MaxRate:    t.Rate,
			MaxRetries: t.MaxRetries,
			MaxWait:    t.MaxWait,
		},
	}
	// The flags' 0 means none; the throttle's 0 means its default.
	if t.MaxRetries == 0 {
		cfg.Throttle.MaxRetries = -1
	}
	if t.MaxWait == 0 {
		cfg.Throttle.MaxWait = -1
	}
	if verbose {
		cfg.Logger = log
	}
	c, err := management.New(cfg)
	if err != nil {
		return nil, &run.UsageError{Err: fmt.Errorf("connecting to %s: %w", t.Domain, err)}
	}
	return c, nil
}

// tokenInfo is what the scope check needs of the client.
type tokenInfo interface {
	TokenInfo(ctx context.Context) (*management.TokenInfo, error)
}

// requireScopes refuses (exit 2) a token that lacks a scope the run will
// need (preflight.Needs: every endpoint it may call, lookups included),
// before the run's first call to the API: it costs one token request,
// which the run makes anyway. A token the tenant refused, or a tenant that
// does not answer, is returned as the run would have met it (exit 1).
//
// A token that does not say its scopes (a --token that is not a JWT, or
// names none; Auth0's Management API tokens are JWTs with a scope claim,
// so it is some other issuer's) cannot be checked: the run goes on with a
// warning on warn, and a missing scope stops it at its first refused
// request, which names the scope.
func (t tenantOptions) requireScopes(ctx context.Context, api tokenInfo, use preflight.Use, warn io.Writer) error {
	return t.requireNeeds(ctx, api, preflight.Needs(use), "a0bulk "+use.Command+" needs", warn)
}

// requireNeeds is requireScopes for needs, which who ("a0bulk export
// needs") names in its messages.
func (t tenantOptions) requireNeeds(ctx context.Context, api tokenInfo, needs []preflight.ScopeNeed, who string, warn io.Writer) error {
	info, err := api.TokenInfo(ctx)
	if errors.Is(err, management.ErrScopesUnknown) {
		fmt.Fprintf(warn, "a0bulk: warning: the token's scopes cannot be read (%v), so they are not checked before the run: %s %s\n",
			err, who, strings.Join(preflight.ScopeNames(needs), " "))
		return nil
	}
	if err != nil {
		return err
	}
	missing := preflight.MissingScopes(needs, info.Scopes)
	if len(missing) == 0 {
		return nil
	}
	granted := strings.Join(info.Scopes, " ")
	if granted == "" {
		granted = "none"
	}
	return usagef("the token lacks scopes %s: %s; it carries: %s. Nothing was sent\n  fix: %s",
		who, preflight.DescribeNeeds(missing), granted, preflight.GrantScopesFix(preflight.ScopeNames(missing), t.ClientID))
}

// connectFor is the client of a command that calls the API directly (no
// run): the tenant flags read, the client built, and the token's scopes
// checked against what use calls, before its first request.
func connectFor(c *ucli.Context, s *IOStreams, g globalOptions, use preflight.Use) (*management.Client, error) {
	t, err := readTenant(c, s)
	if err != nil {
		return nil, err
	}
	client, err := t.client(g.logger(s), g.Verbose)
	if err != nil {
		return nil, err
	}
	if err := t.requireScopes(c.Context, client, use, s.ErrOut); err != nil {
		return nil, err
	}
	return client, nil
}
