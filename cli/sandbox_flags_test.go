package cli

import (
	"bytes"
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/sandbox"
)

// parseSandbox runs the sandbox command's flag parsing only.
func parseSandbox(t *testing.T, args ...string) (sandbox.Config, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := sandboxCommand(Test(strings.NewReader(""), &out, &errOut))
	var cfg sandbox.Config
	var perr error
	cmd.Action = func(c *ucli.Context) error {
		cfg, perr = readSandboxConfig(c)
		return nil
	}
	app := &ucli.App{Commands: []*ucli.Command{cmd}}
	if err := app.Run(append([]string{"a0bulk", "sandbox"}, args...)); err != nil {
		t.Fatalf("parsing %v: %v", args, err)
	}
	return cfg, perr
}

func TestSandboxLimitsFlags(t *testing.T) {
	tests := []struct {
		args  []string
		plan  sandbox.Plan
		rate  float64
		burst int
	}{
		// The default is a plan real tenants have, not an unlimited tenant.
		{nil, sandbox.PlanEssentials, 0, 0},
		{[]string{"--plan", "free"}, sandbox.PlanFree, 0, 0},
		{[]string{"--plan", "Enterprise-NonProd"}, sandbox.PlanEnterpriseNonProd, 0, 0},
		{[]string{"--plan", "professional"}, sandbox.PlanProfessional, 0, 0},
		// --rate replaces the plan with one custom bucket; 0 is unlimited.
		{[]string{"--rate", "2", "--burst", "10"}, "", 2, 10},
		{[]string{"--rate", "5"}, "", 5, 0},
		{[]string{"--rate", "0"}, "", 0, 0},
	}
	for _, tt := range tests {
		cfg, err := parseSandbox(t, tt.args...)
		if err != nil || cfg.Plan != tt.plan || cfg.Rate != tt.rate || cfg.Burst != tt.burst {
			t.Errorf("%v: plan %q rate %v burst %d, %v; want %q %v %d", tt.args, cfg.Plan, cfg.Rate, cfg.Burst, err, tt.plan, tt.rate, tt.burst)
		}
	}
}

func TestSandboxFaultFlags(t *testing.T) {
	cfg, err := parseSandbox(t, "--plan", "essentials", "--storm-start", "1m", "--storm-duration", "30s",
		"--drain-bucket", "users_write", "--drain-start", "10s", "--drain-duration", "20s",
		"--token-resets", "2", "--token-reset-skip", "1", "--fault-token-reset", "0.25", "--seed", "9")
	want := sandbox.Faults{Seed: 9, StormStart: 60e9, StormDuration: 30e9, DrainBucket: "users_write",
		DrainStart: 10e9, DrainDuration: 20e9, TokenResets: 2, TokenResetSkip: 1, TokenReset: 0.25}
	if err != nil || cfg.Faults != want {
		t.Errorf("faults %+v, %v\nwant %+v", cfg.Faults, err, want)
	}
}

func TestSandboxUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown plan":           {"--plan", "gold"},
		"plan and rate":          {"--plan", "free", "--rate", "3"},
		"plan and burst":         {"--plan", "free", "--burst", "3"},
		"burst without rate":     {"--burst", "3"},
		"negative rate":          {"--rate", "-1"},
		"drain an absent bucket": {"--plan", "essentials", "--drain-bucket", "global", "--drain-duration", "1s"},
		"token reset fraction":   {"--fault-token-reset", "1.5"},
		"negative token resets":  {"--token-resets", "-1"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseSandbox(t, args...); ExitCode(err) != ExitUsage {
				t.Fatalf("%v: exit %d, want 2", err, ExitCode(err))
			}
		})
	}
}

func TestLimitsLine(t *testing.T) {
	for cfg, want := range map[*sandbox.Config]string{
		{Plan: sandbox.PlanFree}: "rate limits of the free plan (per bucket in /sandbox/stats)",
		{Rate: 2.5}:              "one custom bucket: burst 3, 2.5 requests/s",
		{Rate: 2, Burst: 10}:     "one custom bucket: burst 10, 2 requests/s",
		{}:                       "no rate limit",
	} {
		if got := limitsLine(*cfg); got != want {
			t.Errorf("%+v: %q, want %q", *cfg, got, want)
		}
	}
}

// TestSandboxLean: --lean asks for the lean user store; the default keeps
// every attribute.
func TestSandboxLean(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{{nil, false}, {[]string{"--lean"}, true}} {
		cfg, err := parseSandbox(t, c.args...)
		if err != nil || cfg.Lean != c.want {
			t.Errorf("%v: lean %v, %v; want %v", c.args, cfg.Lean, err, c.want)
		}
	}
}
