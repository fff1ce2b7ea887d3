package input

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// --map applies to JSON and NDJSON as it does to CSV: it renames the
// top-level properties of each object ("mail" → "email"), moves them into
// an object ("plan" → "app_metadata.plan", "hash" →
// "custom_password_hash.hash.value"), or drops them ("-"). A map that was
// silently ignored would import users without the fields it names. Unlike
// a CSV header, objects need not all have every property, so a source the
// object lacks is not an error.

// decodeMapped is decodeObject after o's column map.
func decodeMapped(raw []byte, o Options, export bool, rec *Record) {
	if len(o.ColumnMap) > 0 {
		raw = remapObject(raw, o.ColumnMap, rec)
	}
	decodeObject(raw, o.Mode, export, rec)
}

// property is one top-level property of an object, in input order.
type property struct {
	key, from string // from: the source key when --map renamed it
	value     json.RawMessage
}

// remapObject returns raw with m applied to its top-level properties, and
// appends to rec what keeps it from applying. An object that is not
// well-formed, or repeats a property, is returned as is: decodeObject names
// the problem in the input's own terms.
func remapObject(raw []byte, m map[string]string, rec *Record) []byte {
	props, ok := topLevel(raw)
	if !ok {
		return raw
	}
	if _, dup := duplicateProperty(bytes.TrimSpace(raw), false); dup {
		return raw
	}
	var out []property
	nested := map[string][]property{} // object → its properties from the map
	var order []string                // objects in the order first mapped into
	taken := map[string]string{}      // target → the key that gave it
	claim := func(target, from string) bool {
		if prev, dup := taken[target]; dup {
			rec.Errors = append(rec.Errors, FieldError{Field: target, Reason: fmt.Sprintf("given twice: by %s and by %s", shownKey(prev, target), shownKey(from, target))})
			return false
		}
		taken[target] = from
		return true
	}
	for _, p := range props {
		target, mapped := m[p.key]
		switch {
		case !mapped:
			if claim(p.key, p.key) {
				out = append(out, p)
			}
		case target == dropColumn:
		case !strings.Contains(target, "."):
			if claim(target, p.key) {
				out = append(out, property{key: target, from: p.key, value: p.value})
			}
		default:
			if !claim(target, p.key) {
				continue
			}
			if h := hashColumn(target); h != nil {
				target = h.name // the schema's spelling (blockSize)
			}
			top, rest, _ := strings.Cut(target, ".")
			if _, seen := nested[top]; !seen {
				order = append(order, top)
			}
			nested[top] = append(nested[top], property{key: rest, from: p.key, value: p.value})
		}
	}
	for _, top := range order {
		out = mergeInto(out, top, nested[top], rec)
	}
	return encodeProperties(out)
}

// shownKey names where a property came from in a message.
func shownKey(from, target string) string {
	if from == target {
		return fmt.Sprintf("the property %q", from)
	}
	return fmt.Sprintf("%q (mapped by --map)", from)
}

// mergeInto sets each of the dotted paths of props in the object top of
// out (made when out has none), and returns out.
func mergeInto(out []property, top string, props []property, rec *Record) []property {
	at := -1
	obj := map[string]any{}
	for i, p := range out {
		if p.key != top {
			continue
		}
		at = i
		if string(p.value) == "null" {
			break // not set
		}
		d := json.NewDecoder(bytes.NewReader(p.value))
		d.UseNumber()
		if p.value[0] != '{' || d.Decode(&obj) != nil {
			// decodeObject says it must be an object; what --map meant to
			// put in it is moot until it is.
			return out
		}
	}
	for _, p := range props {
		if !setRaw(obj, strings.Split(p.key, "."), p.value) {
			rec.Errors = append(rec.Errors, FieldError{Field: top + "." + p.key, Reason: fmt.Sprintf("given twice: by %q (mapped by --map) and in the object %q", p.from, top)})
		}
	}
	v, err := json.Marshal(obj)
	if err != nil { // cannot happen: every value came from a decoder
		rec.Errors = append(rec.Errors, FieldError{Field: top, Reason: "cannot be rebuilt: " + err.Error()})
		return out
	}
	if at < 0 {
		return append(out, property{key: top, value: v})
	}
	out[at].value = v
	return out
}

// setRaw sets m[a][b]…=v, making objects on the way; false when the path
// is taken (by a value, or by an object where v would go).
func setRaw(m map[string]any, path []string, v json.RawMessage) bool {
	cur := m
	for _, k := range path[:len(path)-1] {
		switch next := cur[k].(type) {
		case nil:
			if _, taken := cur[k]; taken {
				return false
			}
			n := map[string]any{}
			cur[k] = n
			cur = n
		case map[string]any:
			cur = next
		default:
			return false
		}
	}
	last := path[len(path)-1]
	if _, taken := cur[last]; taken {
		return false
	}
	cur[last] = v
	return true
}

// topLevel splits a JSON object into its properties; false when raw is not
// a well-formed object.
func topLevel(raw []byte) ([]property, bool) {
	d := json.NewDecoder(bytes.NewReader(raw))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var props []property
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil, false
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, false
		}
		props = append(props, property{key: k, value: v})
	}
	if t, err := d.Token(); err != nil || t != json.Delim('}') {
		return nil, false
	}
	if _, err := d.Token(); err == nil {
		return nil, false // content after the object
	}
	return props, true
}

func encodeProperties(props []property) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range props {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(p.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}
