package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// loadConfigFile reads the optional config file named by --config FILE (or
// A0BULK_CONFIG): lines of KEY=VALUE using the environment variable names of
// the flags (AUTH0_DOMAIN=…). A key already in the environment wins, and a
// flag wins over both, so the order is flags > env > file. The file is never
// required. --config is removed from args because it is handled here. A key
// a0bulk does not read (not in known) is warned about, with the near miss
// it may be, and not set.
func loadConfigFile(in []string, s *IOStreams, known []string) ([]string, error) {
	args := append([]string(nil), in...)
	path := os.Getenv("A0BULK_CONFIG")
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--config" || a == "-config":
			if i+1 >= len(args) {
				return nil, usagef("--config needs a file")
			}
			path = args[i+1]
			copy(args[i:], args[i+2:])
			args = args[:len(args)-2]
			i--
		case strings.HasPrefix(a, "--config="):
			path = strings.TrimPrefix(a, "--config=")
			copy(args[i:], args[i+1:])
			args = args[:len(args)-1]
			i--
		}
	}
	if path == "" {
		return args, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("config file: %w", err)
	}
	defer f.Close()
	warnIfReadableByOthers(f, path, s)
	// Env beats the file for credentials as a whole: a secret or token in the
	// environment sets aside every kind of credential the file names, so a
	// file's secret file never clashes with an env secret ("give one, not both").
	// Per tenant: a migrate's source and target (_FROM, _TO) each have
	// their own credentials.
	credentialInEnv := map[string]bool{}
	for k := range credentialKeys {
		for _, side := range []tenantSide{oneTenant, sourceTenant, targetTenant} {
			if _, set := os.LookupEnv(side.env(k)); set {
				credentialInEnv[side.suffix] = true
			}
		}
	}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !(strings.HasPrefix(key, "AUTH0_") || strings.HasPrefix(key, "A0BULK_")) {
			return nil, usagef("config file %s:%d: want AUTH0_…=value or A0BULK_…=value", path, n)
		}
		if !slices.Contains(known, key) {
			fmt.Fprintf(s.ErrOut, "a0bulk: warning: config file %s:%d: %s is not an a0bulk setting, ignored%s\n", path, n, key, didYouMean(key, known))
			continue
		}
		plain, side := sideOf(key)
		_, tokenInEnv := os.LookupEnv("AUTH0_TOKEN" + side)
		if _, set := os.LookupEnv(key); set || (credentialKeys[plain] && credentialInEnv[side]) || (plain == "AUTH0_CLIENT_ID" && tokenInEnv) {
			continue
		}
		os.Setenv(key, strings.Trim(strings.TrimSpace(value), `"'`))
	}
	if err := sc.Err(); err != nil {
		return nil, usagef("config file %s: %w", path, err)
	}
	return args, nil
}

// warnIfReadableByOthers warns (it does not refuse: the operator may have
// reasons) when a file that may hold a secret is readable by other users.
func warnIfReadableByOthers(f *os.File, path string, s *IOStreams) {
	st, err := f.Stat()
	if err == nil && st.Mode().Perm()&0o004 != 0 {
		fmt.Fprintf(s.ErrOut, "a0bulk: warning: %s is readable by every user (mode %04o); chmod 600 it\n", path, st.Mode().Perm())
	}
}

// sideOf splits a setting into its plain name and the suffix of the
// tenant it is for ("_FROM", "_TO": a migrate's; "" for every command's).
func sideOf(key string) (plain, suffix string) {
	for _, side := range []tenantSide{sourceTenant, targetTenant} {
		if p, ok := strings.CutSuffix(key, side.suffix); ok {
			return p, side.suffix
		}
	}
	return key, ""
}

// credentialKeys are the mutually exclusive ways of giving a credential.
var credentialKeys = map[string]bool{
	"AUTH0_CLIENT_SECRET": true, "AUTH0_CLIENT_SECRET_FILE": true, "AUTH0_TOKEN": true,
}

// toolEnv are A0BULK_ variables a0bulk's own scripts and benchmarks set
// for themselves: a0bulk does not read them, and says nothing of them.
var toolEnv = []string{"A0BULK_BIN", "A0BULK_BENCH_RSS_HELPER"}

// knownSettings are the variables a0bulk reads: every flag's, of every
// command (urfave reads them when a command's flags are parsed).
func knownSettings(app *ucli.App) []string {
	var known []string
	add := func(flags []ucli.Flag) {
		for _, f := range flags {
			if ev, ok := f.(interface{ GetEnvVars() []string }); ok {
				for _, e := range ev.GetEnvVars() {
					if !slices.Contains(known, e) {
						known = append(known, e)
					}
				}
			}
		}
	}
	var walk func(cmds []*ucli.Command)
	walk = func(cmds []*ucli.Command) {
		for _, c := range cmds {
			add(c.Flags)
			walk(c.Subcommands)
		}
	}
	add(app.Flags)
	walk(app.Commands)
	slices.Sort(known)
	return known
}

// warnUnknownEnv warns of each A0BULK_ variable in environ that a0bulk
// does not read: a misspelt A0BULK_CONNCTION would otherwise be ignored in
// silence, and the run would then say --connection is missing. AUTH0_
// variables are shared with other Auth0 tools, so only near misses of ours
// are named (AUTH0_DOMIAN).
func warnUnknownEnv(environ, known []string, w io.Writer) {
	var names []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if slices.Contains(known, k) || slices.Contains(toolEnv, k) {
			continue
		}
		hint := didYouMean(k, known)
		if strings.HasPrefix(k, "A0BULK_") || (strings.HasPrefix(k, "AUTH0_") && hint != "") {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		fmt.Fprintf(w, "a0bulk: warning: %s is set but is not an a0bulk setting%s\n", k, didYouMean(k, known))
	}
}

// didYouMean is " (did you mean X?)" for the known key nearest to key, when
// it is near enough to be a slip (a letter or two, or the other prefix:
// A0BULK_DOMAIN for AUTH0_DOMAIN); else "".
func didYouMean(key string, known []string) string {
	best, bestD := "", -1
	for _, k := range known {
		d := editDistance(key, k)
		if suffix(key) == suffix(k) {
			d = 1
		}
		if bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	if bestD < 0 || bestD > max(2, len(suffix(key))/4) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// suffix is a setting's name without its AUTH0_ or A0BULK_ prefix.
func suffix(k string) string {
	for _, p := range []string{"AUTH0_", "A0BULK_"} {
		if rest, ok := strings.CutPrefix(k, p); ok {
			return rest
		}
	}
	return k
}

// editDistance is the Levenshtein distance of a and b (bytes: the names
// are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
