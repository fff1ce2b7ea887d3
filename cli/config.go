package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// loadConfigFile reads the optional config file named by --config FILE (or
// A0BULK_CONFIG): lines of KEY=VALUE using the environment variable names of
// the flags (AUTH0_DOMAIN=…). A key already in the environment wins, and a
// flag wins over both, so the order is flags > env > file. The file is never
// required. --config is removed from args because it is handled here.
func loadConfigFile(in []string, s *IOStreams) ([]string, error) {
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
	credentialInEnv := false
	for k := range credentialKeys {
		if _, set := os.LookupEnv(k); set {
			credentialInEnv = true
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
		_, tokenInEnv := os.LookupEnv("AUTH0_TOKEN")
		if _, set := os.LookupEnv(key); set || (credentialKeys[key] && credentialInEnv) || (key == "AUTH0_CLIENT_ID" && tokenInEnv) {
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

// credentialKeys are the mutually exclusive ways of giving a credential.
var credentialKeys = map[string]bool{
	"AUTH0_CLIENT_SECRET": true, "AUTH0_CLIENT_SECRET_FILE": true, "AUTH0_TOKEN": true,
}
