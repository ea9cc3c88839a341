package helm_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// object is one rendered Kubernetes object, as decoded YAML.
type object map[string]any

func (o object) kind() string { return str(o, "kind") }
func (o object) name() string { return str(o, "metadata", "name") }
func (o object) id() string   { return o.kind() + "/" + o.name() }

// annotations returns metadata.annotations (empty when absent).
func (o object) annotations() map[string]any { return obj(o, "metadata", "annotations") }

// manifests is a rendered release.
type manifests []object

// byKind returns the objects of kind, in render order.
func (m manifests) byKind(kind string) []object {
	var out []object
	for _, o := range m {
		if o.kind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// find returns the object of kind and name, or nil.
func (m manifests) find(kind, name string) object {
	for _, o := range m {
		if o.kind() == kind && o.name() == name {
			return o
		}
	}
	return nil
}

// workload is a pod template and where it came from.
type workload struct {
	owner object
	pod   map[string]any // the pod spec
	meta  map[string]any // the pod template's metadata
}

// workloads returns the pod templates of Deployments, StatefulSets and Jobs.
func (m manifests) workloads() []workload {
	var out []workload
	for _, o := range m {
		switch o.kind() {
		case "Deployment", "StatefulSet", "Job":
			out = append(out, workload{owner: o, pod: obj(o, "spec", "template", "spec"), meta: obj(o, "spec", "template", "metadata")})
		}
	}
	return out
}

// containers returns the pod's init containers and containers.
func (w workload) containers() []map[string]any {
	var out []map[string]any
	for _, key := range []string{"initContainers", "containers"} {
		for _, c := range list(w.pod, key) {
			if cm, ok := c.(map[string]any); ok {
				out = append(out, cm)
			}
		}
	}
	return out
}

// helmRun runs helm with args and returns stdout, or an error carrying
// stderr.
func helmRun(helm string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(helm, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s%s", strings.Join(args, " "), err, stderr.String(), stdout.String())
	}
	return stdout.String(), nil
}

// parseManifests splits a multi-document render into objects.
func parseManifests(text string) (manifests, error) {
	dec := yaml.NewDecoder(strings.NewReader(text))
	var out manifests
	for {
		var o map[string]any
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("rendered YAML: %w", err)
		}
		if o == nil {
			continue // an empty document (a template that rendered nothing)
		}
		if str(o, "kind") == "" || str(o, "metadata", "name") == "" {
			return nil, fmt.Errorf("rendered an object without kind or name: %v", o)
		}
		out = append(out, o)
	}
}

// get walks path through nested maps; nil when any step is missing.
func get(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			if o, isObj := v.(object); isObj {
				m = o
			} else {
				return nil
			}
		}
		v = m[p]
	}
	return v
}

func str(v any, path ...string) string {
	s, _ := get(v, path...).(string)
	return s
}

func obj(v any, path ...string) map[string]any {
	m, _ := get(v, path...).(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

func list(v any, path ...string) []any {
	l, _ := get(v, path...).([]any)
	return l
}

func strs(v any, path ...string) []string {
	var out []string
	for _, x := range list(v, path...) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// mustRender renders the chart or fails the test.
func mustRender(t *testing.T, helm string, args ...string) manifests {
	t.Helper()
	out, err := helmRun(helm, append([]string{"template", "custody", chartDir, "--namespace", "custody"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseManifests(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) == 0 {
		t.Fatal("helm template rendered nothing")
	}
	return m
}
