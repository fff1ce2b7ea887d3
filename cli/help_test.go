package cli

import (
	"bytes"
	"slices"
	"testing"

	ucli "github.com/urfave/cli/v2"
)

// TestEveryFlagHasACategory: a flag missing from flagCategory would stand
// alone above the headings of its command's --help.
func TestEveryFlagHasACategory(t *testing.T) {
	app := NewApp(Test(nil, &bytes.Buffer{}, &bytes.Buffer{}))
	check := func(where string, flags []ucli.Flag) {
		for _, f := range flags {
			cf, ok := f.(ucli.CategorizableFlag)
			if !ok {
				t.Errorf("%s --%s: a %T has no category", where, f.Names()[0], f)
				continue
			}
			if cf.IsVisible() && cf.GetCategory() == "" {
				t.Errorf("%s --%s has no category: add it to flagCategory (cli/help.go)", where, f.Names()[0])
			}
		}
	}
	check("a0bulk", app.Flags)
	var walk func(path string, cmds []*ucli.Command)
	walk = func(path string, cmds []*ucli.Command) {
		for _, c := range cmds {
			check(path+" "+c.Name, c.Flags)
			walk(path+" "+c.Name, c.Subcommands)
		}
	}
	walk("a0bulk", app.Commands)
}

func TestWantsJSON(t *testing.T) {
	t.Setenv("A0BULK_OUTPUT", "")
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"a0bulk", "import", "--output", "json"}, true},
		{[]string{"a0bulk", "--output=json", "import"}, true},
		{[]string{"a0bulk", "import", "-o", "json"}, true},
		{[]string{"a0bulk", "import", "-o=json"}, true},
		{[]string{"a0bulk", "import", "-o", "json", "--output", "text"}, false}, // the last wins
		{[]string{"a0bulk", "import", "--", "--output", "json"}, false},
		{[]string{"a0bulk", "import", "--output"}, false},
		{[]string{"a0bulk", "import", "--outputs", "json"}, false},
	} {
		if got := wantsJSON(tc.args); got != tc.want {
			t.Errorf("wantsJSON(%q) = %v", tc.args, got)
		}
	}
	t.Setenv("A0BULK_OUTPUT", "json")
	if !wantsJSON([]string{"a0bulk", "import"}) || wantsJSON([]string{"a0bulk", "import", "-o", "text"}) {
		t.Error("A0BULK_OUTPUT=json is not the default that a flag overrides")
	}
}

// TestFileFlagsCompleteFiles: fish offers files for the flags that take one.
func TestFileFlagsCompleteFiles(t *testing.T) {
	app := NewApp(Test(nil, &bytes.Buffer{}, &bytes.Buffer{}))
	var out bytes.Buffer
	if err := writeCompletion(&out, app, "fish"); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(out.Bytes(), []byte("\n"))
	has := func(s string) bool {
		return slices.ContainsFunc(lines, func(l []byte) bool { return bytes.Equal(l, []byte(s)) })
	}
	if !has(`complete -c a0bulk -n '__fish_seen_subcommand_from import' -l report -r -d 'report ` + "`FILE`" + ` (default a0bulk-import-TIME.ndjson)'`) {
		t.Errorf("import --report is not completed with files:\n%s", out.String())
	}
	if !has(`complete -c a0bulk -n '__fish_seen_subcommand_from import' -f -l connection -r -d 'database connection ` + "`NAME`" + `'`) {
		t.Error("import --connection is completed with files")
	}
}
