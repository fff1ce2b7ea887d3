package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Peak memory and time of a command, measured from outside: the test
// binary re-runs itself as a small helper (rssHelperEnv) that runs the
// command and reports its getrusage (ru_maxrss, i.e. VmHWM, and CPU time)
// and wall time. Through a helper because a child's ru_maxrss starts from
// its parent's at exec, and a benchmark process is large.

const rssHelperEnv = "A0BULK_BENCH_RSS_HELPER"

// TestMain turns the test binary into the helper when asked.
func TestMain(m *testing.M) {
	if os.Getenv(rssHelperEnv) != "1" {
		os.Exit(m.Run())
	}
	os.Exit(rssHelper(os.Args[1:]))
}

// rssCapEnv: the helper kills its command with SIGKILL once its resident
// set exceeds this many MB (none when unset), so that a command whose
// memory grows with the input cannot take a shared machine down.
const rssCapEnv = "A0BULK_BENCH_RSS_CAP_MB"

// rssHelper runs args with the helper's stdin, stdout and stderr, passes
// SIGINT and SIGTERM on to it, and writes its figures to fd 3 (the
// measured's report pipe): "maxrss_kb N wall_s F cpu_s F exit N capped B",
// exit -1 when a signal ended it, capped 1 when that was the RSS cap.
func rssHelper(args []string) int {
	report := os.NewFile(3, "report")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = commandEnv()
	setParentDeath(cmd)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "rss helper:", err)
		return 1
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	capped := make(chan bool, 1)
	stop := make(chan struct{})
	go func() { capped <- watchRSS(cmd.Process, os.Getenv(rssCapEnv), stop) }()
	err := cmd.Wait()
	close(stop)
	wasCapped := <-capped
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintln(os.Stderr, "rss helper:", err)
		return 1
	}
	st := cmd.ProcessState
	ru := st.SysUsage().(*syscall.Rusage)
	fmt.Fprintf(report, "maxrss_kb %d wall_s %f cpu_s %f exit %d capped %t\n", ru.Maxrss, wall.Seconds(),
		(st.UserTime() + st.SystemTime()).Seconds(), st.ExitCode(), wasCapped)
	return 0
}

// watchRSS kills p once its resident set passes capMB (from /proc: Linux
// only; elsewhere, or without a cap, it only waits) and says whether it
// did.
func watchRSS(p *os.Process, capMB string, stop <-chan struct{}) bool {
	limit, err := strconv.ParseInt(capMB, 10, 64)
	if err != nil || limit <= 0 {
		return false
	}
	statm := fmt.Sprintf("/proc/%d/statm", p.Pid)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return false
		case <-tick.C:
		}
		data, err := os.ReadFile(statm)
		if err != nil {
			return false
		}
		var size, resident int64
		if _, err := fmt.Sscanf(string(data), "%d %d", &size, &resident); err != nil {
			return false
		}
		if resident*int64(os.Getpagesize()) > limit<<20 {
			_ = p.Kill()
			return true
		}
	}
}

// commandEnv is the helper's environment without the benchmarks' own
// variables (A0BULK_BENCH_*, A0BULK_SCALE*, A0BULK_BIN), which a0bulk
// would warn about as settings it does not know.
func commandEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "A0BULK_BENCH_") && !strings.HasPrefix(kv, "A0BULK_SCALE") && !strings.HasPrefix(kv, "A0BULK_BIN=") {
			env = append(env, kv)
		}
	}
	return env
}

// usage is what the helper measured of one command.
type usage struct {
	RSSMB float64 // peak resident set
	Wall  float64 // seconds, start to exit
	CPU   float64 // seconds, user + system
	Exit  int     // -1: ended by a signal
	// Capped: killed at the RSS cap (rssCapEnv); RSSMB is about the cap.
	Capped bool
}

// measured is a command run under the helper. Set Stdin and Stdout on cmd
// before start (nil: /dev/null); its stderr is kept for errors.
type measured struct {
	cmd      *exec.Cmd
	errOut   bytes.Buffer
	report   *os.File
	reported chan []byte
}

func newMeasured(args ...string) *measured {
	m := &measured{cmd: exec.Command(os.Args[0], args...)}
	m.cmd.Env = append(os.Environ(), rssHelperEnv+"=1")
	m.cmd.Stderr = &m.errOut
	// A group of its own, so that kill reaches the command too.
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setParentDeath(m.cmd)
	return m
}

func (m *measured) start() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	m.cmd.ExtraFiles = []*os.File{w}
	if err := m.cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return err
	}
	w.Close()
	m.report, m.reported = r, make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(r)
		m.reported <- b
	}()
	return nil
}

// wait returns the command's figures once it ended.
func (m *measured) wait() (usage, error) {
	err := m.cmd.Wait()
	b := <-m.reported
	m.report.Close()
	var u usage
	var kb int64
	if _, perr := fmt.Sscanf(string(b), "maxrss_kb %d wall_s %f cpu_s %f exit %d capped %t", &kb, &u.Wall, &u.CPU, &u.Exit, &u.Capped); perr != nil {
		return u, fmt.Errorf("helper said %q (%v): %v; stderr:\n%s", b, err, perr, tail(m.errOut.String()))
	}
	u.RSSMB = float64(kb) / 1024
	return u, nil
}

// kill ends the command at once with SIGKILL (no chance to flush or
// clean up: a crash), and its helper with it.
func (m *measured) kill() error { return syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL) }

// interrupt sends SIGINT, which the helper passes on: the command stops
// as on Ctrl-C and the helper still reports.
func (m *measured) interrupt() error { return m.cmd.Process.Signal(syscall.SIGINT) }

// capRSS makes the helper kill the command past mb MB of RSS (0: never).
func (m *measured) capRSS(mb int) {
	if mb > 0 {
		m.cmd.Env = append(m.cmd.Env, fmt.Sprintf("%s=%d", rssCapEnv, mb))
	}
}

// run starts the command, waits for it, and fails b unless it exited with
// one of okExits or was stopped at the RSS cap.
func (m *measured) run(b *testing.B, okExits ...int) usage {
	b.Helper()
	if err := m.start(); err != nil {
		b.Fatal(err)
	}
	u, err := m.wait()
	if err != nil {
		b.Fatal(err)
	}
	if u.Capped {
		return u
	}
	for _, c := range okExits {
		if u.Exit == c {
			return u
		}
	}
	b.Fatalf("%v: exit %d, want one of %v; stderr:\n%s", m.cmd.Args[1:], u.Exit, okExits, tail(m.errOut.String()))
	return u
}

// tail is the end of a long output, enough to see why it failed.
func tail(s string) string {
	const keep = 4000
	if len(s) > keep {
		return "…" + s[len(s)-keep:]
	}
	return s
}
