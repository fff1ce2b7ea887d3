package deploy_test

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Cmd  string // upper case: FROM, RUN, COPY …
	Args string
}

func dockerfile(t *testing.T) []instruction {
	t.Helper()
	f, err := os.Open("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)})
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// dockerfileUser is the image's last USER.
func dockerfileUser(t *testing.T) string {
	user := ""
	for _, in := range dockerfile(t) {
		if in.Cmd == "USER" {
			user = in.Args
		}
	}
	return user
}

// TestDockerfile: a multi-stage build of a static binary (CGO off, the
// version stamped as make does) into a distroless or scratch image with CA
// certificates, run as a non-root user.
func TestDockerfile(t *testing.T) {
	ins := dockerfile(t)
	var froms []string
	build, user, entry := "", "", ""
	for _, in := range ins {
		switch in.Cmd {
		case "FROM":
			froms = append(froms, in.Args)
		case "RUN":
			if strings.Contains(in.Args, "go build") {
				build = in.Args
			}
		case "USER":
			user = in.Args
		case "ENTRYPOINT":
			entry = in.Args
		}
	}
	if len(froms) < 2 {
		t.Fatalf("FROM %q: want a build stage and a runtime stage", froms)
	}
	final := froms[len(froms)-1]
	if !strings.Contains(final, "distroless/static") && !strings.HasPrefix(final, "scratch") {
		t.Errorf("final stage %q is neither distroless/static nor scratch", final)
	}
	if strings.HasPrefix(final, "scratch") && !strings.Contains(strings.Join(argsOf(ins, "COPY"), "\n"), "ca-certificates") {
		t.Error("a scratch image needs the CA certificates copied in")
	}
	if !strings.Contains(build, "CGO_ENABLED=0") {
		t.Errorf("the build %q does not disable cgo: the binary would need a libc", build)
	}
	// The version is stamped into the variable make stamps.
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`-X (\S+\.Version)=`).FindSubmatch(mk)
	if m == nil || !strings.Contains(build, "-X "+string(m[1])+"=") {
		t.Errorf("the build %q does not set %s as the Makefile does", build, m)
	}
	uid, _, _ := strings.Cut(user, ":")
	if user == "" || uid == "0" || uid == "root" {
		t.Errorf("USER %q: the image must not run as root", user)
	}
	if !strings.Contains(entry, "/usr/local/bin/a0bulk") {
		t.Errorf("ENTRYPOINT %s does not run /usr/local/bin/a0bulk", entry)
	}
}

func argsOf(ins []instruction, cmd string) []string {
	var out []string
	for _, in := range ins {
		if in.Cmd == cmd {
			out = append(out, in.Args)
		}
	}
	return out
}

// TestStaticBinary: built as the Dockerfile builds it, a0bulk needs no
// dynamic loader, so it runs on distroless/static or scratch.
func TestStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "a0bulk")
	cmd := exec.Command("go", "build", "-o", bin, "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary asks for a dynamic loader: it is not static")
		}
	}
}
