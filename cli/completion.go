package cli

import (
	"fmt"
	"io"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// completionFlag is the hidden flag urfave/cli answers with the words that
// may come next (its EnableBashCompletion): the bash and zsh scripts ask
// the binary itself, so they always match its commands and flags.
const completionFlag = "--generate-bash-completion"

// The bash and zsh scripts are urfave/cli's (autocomplete/), made
// self-contained: the bash one needs no bash-completion package, and
// neither evaluates what was typed (the words are passed as arguments).
const bashCompletion = `# bash completion for a0bulk
#   source <(a0bulk completion bash)        # this shell
#   a0bulk completion bash > /etc/bash_completion.d/a0bulk
_a0bulk_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local -a words=("${COMP_WORDS[@]:0:COMP_CWORD}")
  local opts
  if [[ "$cur" == -* ]]; then
    opts=$("${words[@]}" "$cur" ` + completionFlag + ` 2>/dev/null)
  else
    opts=$("${words[@]}" ` + completionFlag + ` 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o bashdefault -o default -F _a0bulk_complete a0bulk
`

const zshCompletion = `#compdef a0bulk
# zsh completion for a0bulk
#   a0bulk completion zsh > "${fpath[1]}/_a0bulk"   # then start a new shell
#   source <(a0bulk completion zsh)                 # this shell (after compinit)
_a0bulk() {
  local -a opts args
  local cur=${words[CURRENT]}
  args=("${(@)words[1,CURRENT-1]}")
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$("${args[@]}" "$cur" ` + completionFlag + ` 2>/dev/null)}")
  else
    opts=("${(@f)$("${args[@]}" ` + completionFlag + ` 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
if [[ "${funcstack[1]}" == "_a0bulk" ]]; then
  _a0bulk "$@"
else
  compdef _a0bulk a0bulk
fi
`

func completionCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: `Examples:
   source <(a0bulk completion bash)                               # bash, this shell
   a0bulk completion bash > /etc/bash_completion.d/a0bulk         # bash, every shell
   a0bulk completion zsh > "${fpath[1]}/_a0bulk"                  # zsh
   a0bulk completion fish > ~/.config/fish/completions/a0bulk.fish  # fish`,
		Action: func(c *ucli.Context) error {
			if c.NArg() != 1 {
				return usagef("completion needs one shell: bash, zsh or fish")
			}
			return writeCompletion(s.Out, c.App, c.Args().First())
		},
	}
}

func writeCompletion(w io.Writer, app *ucli.App, shell string) error {
	var script string
	switch shell {
	case "bash":
		script = bashCompletion
	case "zsh":
		script = zshCompletion
	case "fish":
		// fish completes from a static list, generated from the commands
		// and flags of this binary.
		s, err := app.ToFishCompletion()
		if err != nil {
			return fmt.Errorf("fish completion: %w", err)
		}
		script = uniqueLines(s)
	default:
		return usagef("completion: unknown shell %q: bash, zsh or fish", shell)
	}
	_, err := io.WriteString(w, script)
	return err
}

// uniqueLines drops repeated lines but blank ones: urfave lists the app's
// --help and --version twice when the app's flags already hold them.
func uniqueLines(s string) string {
	seen := map[string]bool{}
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.TrimSpace(line) != "" && seen[line] {
			continue
		}
		seen[line] = true
		b.WriteString(line)
	}
	return b.String()
}
