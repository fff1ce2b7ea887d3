// Package words builds the English of a0bulk's messages: counts with the
// noun in agreement ("1 record", "2 records"), "once"/"twice", and the
// article before a word ("an import run"). Every message that puts a number
// or a mode name before a noun goes through here, so that none says
// "1 records" or "a import run".
package words

import (
	"fmt"
	"strings"
)

// Count is n followed by noun in agreement with it: Count(1, "record") is
// "1 record", Count(0, "record") "0 records". A noun of several words is
// made plural on its last: Count(2, "import job") is "2 import jobs".
func Count(n int, noun string) string {
	return fmt.Sprintf("%d %s", n, Plural(n, noun))
}

// Plural is noun in agreement with n, without n: "1 of 2 records final"
// is Count(1, …) + " of " + Count(2, …) for a noun said once.
func Plural(n int, noun string) string {
	if n == 1 || n == -1 {
		return noun
	}
	return plural(noun)
}

// plural is the regular English plural, which every noun a0bulk counts
// takes: record → records, entry → entries, match → matches.
func plural(noun string) string {
	switch {
	case noun == "":
		return noun
	case strings.HasSuffix(noun, "y") && len(noun) > 1 && !strings.ContainsRune("aeiou", rune(noun[len(noun)-2])):
		return noun[:len(noun)-1] + "ies"
	case strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "x"), strings.HasSuffix(noun, "z"),
		strings.HasSuffix(noun, "ch"), strings.HasSuffix(noun, "sh"):
		return noun + "es"
	}
	return noun + "s"
}

// Agree is one when n is 1, else many: the verb of a counted subject
// ("1 record is", "2 records are": Agree(n, "is", "are")).
func Agree(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Times says how often something happened: "once", "twice", "3 times"
// ("resumed once", not "resumed 1 times").
func Times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return Count(n, "time")
}

// A is word with its indefinite article: A("import") is "an import",
// A("create") "a create". The article follows the first letter, which is
// right for the words a0bulk names this way (modes, statuses, fields).
func A(word string) string {
	if word != "" && strings.ContainsRune("aeiouAEIOU", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}
