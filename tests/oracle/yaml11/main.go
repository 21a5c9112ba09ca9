// Command yaml11 is gitops-guard's differential oracle for YAML: it reads a
// YAML stream the way Kubernetes does and prints what it read, so that
// tests/yaml_differential.rs can compare our manifest loader against it.
//
// Kubernetes, kubectl and Argo CD decode manifests with sigs.k8s.io/yaml,
// which is gopkg.in/yaml.v2 underneath: YAML 1.1 scalar resolution (yes/on
// are booleans, 0777 is octal), tags, anchors, aliases and merge keys. We
// decode in strict mode (duplicate keys are errors) because a manifest with
// a duplicate key is ambiguous, and the test lists where that differs from
// the cluster's lenient decoder.
//
// Protocol (the test depends on every line of it):
//
//   - stdin: one YAML stream, read to the end;
//   - stdout: one line per decoded document, the document as compact JSON;
//   - a document that JSON cannot hold (a non-finite float such as .inf or
//     .nan) prints as an EMPTY line, so later documents keep their position;
//   - a mapping key that is not a string is printed with fmt.Sprint (for
//     example 1.5, +Inf, <nil>, true), as JSON object keys must be strings;
//   - on the first decoding error: the line {"error": "<go-yaml message>"}
//     (a JSON string) and exit status 1. Documents before it were printed.
//
// Build: tests/oracle/yaml11/build.sh OUT (Debian golang-go and
// golang-gopkg-yaml.v2-dev, no module download).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	yaml "gopkg.in/yaml.v2"
)

// jsonable turns what yaml.v2 decodes (map[interface{}]interface{} for every
// mapping) into values encoding/json accepts.
func jsonable(v interface{}) interface{} {
	switch node := v.(type) {
	case map[interface{}]interface{}:
		out := make(map[string]interface{}, len(node))
		for key, value := range node {
			name, isString := key.(string)
			if !isString {
				name = fmt.Sprint(key)
			}
			out[name] = jsonable(value)
		}
		return out
	case []interface{}:
		out := make([]interface{}, len(node))
		for i, item := range node {
			out[i] = jsonable(item)
		}
		return out
	default:
		return v
	}
}

func main() {
	out := bufio.NewWriter(os.Stdout)
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(out, fmt.Sprintf("reading stdin: %v", err))
	}
	decoder := yaml.NewDecoder(bytes.NewReader(input))
	decoder.SetStrict(true)
	for {
		var doc interface{}
		err := decoder.Decode(&doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			fail(out, err.Error())
		}
		line, err := json.Marshal(jsonable(doc))
		if err != nil {
			// Only non-finite floats get here (json: unsupported value):
			// the empty line of the protocol.
			line = nil
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	out.Flush()
}

// fail prints the error line and exits 1.
func fail(out *bufio.Writer, message string) {
	line, _ := json.Marshal(map[string]string{"error": message})
	out.Write(line)
	out.WriteByte('\n')
	out.Flush()
	os.Exit(1)
}
