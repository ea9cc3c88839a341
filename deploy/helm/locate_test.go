package helm_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// HelmVersion is the helm the tests build when none is installed.
const HelmVersion = "v3.22.0"

// helmPackage is what `go install` builds.
const helmPackage = "helm.sh/helm/v3/cmd/helm"

// findHelm returns a helm v3 binary: $HELM, else helm in PATH, else the
// one built into the user cache by an earlier run, else it builds it there
// now (GOBIN=<cache>/custody/helm-<version> go install helm@<version>),
// which takes a minute or two once. Without one the test is skipped, or
// fails under CI=true.
func findHelm(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HELM"); p != "" {
		if err := checkHelm(p); err != nil {
			missing(t, "HELM=%s: %v", p, err)
		}
		return p
	}
	if p, err := exec.LookPath("helm"); err == nil {
		err := checkHelm(p)
		if err == nil {
			return p
		}
		t.Logf("ignoring helm in PATH (%s): %v", p, err)
	}
	cache, err := os.UserCacheDir() // $XDG_CACHE_HOME or ~/.cache
	if err != nil {
		missing(t, "no helm and no user cache directory to build it in: %v", err)
	}
	dir := filepath.Join(cache, "custody", "helm-"+HelmVersion)
	bin := filepath.Join(dir, "helm")
	if checkHelm(bin) == nil {
		return bin
	}
	took, err := buildHelm(dir)
	if err != nil {
		missing(t, "no helm in $HELM or PATH, and building it failed: %v", err)
	}
	t.Logf("built helm %s into %s in %s (once; later runs reuse it)", HelmVersion, bin, took.Round(100*time.Millisecond))
	return bin
}

// buildHelm installs helm into dir through a temporary GOBIN beside it, so
// an interrupted build never leaves a half-written binary where findHelm
// looks.
func buildHelm(dir string) (time.Duration, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return 0, fmt.Errorf("the go command is not in PATH: %w", err)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.MkdirTemp(parent, ".helm-build-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, goBin, "install", helmPackage+"@"+HelmVersion)
	cmd.Dir = tmp // outside any module: go install pkg@version ignores go.mod
	cmd.Env = append(os.Environ(), "GOBIN="+tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("go install %s@%s: %w\n%s", helmPackage, HelmVersion, err, lastLines(string(out), 20))
	}
	took := time.Since(start)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	if err := os.Rename(filepath.Join(tmp, "helm"), filepath.Join(dir, "helm")); err != nil {
		return 0, err
	}
	return took, checkHelm(filepath.Join(dir, "helm"))
}

// checkHelm runs `helm version` and requires helm 3.
func checkHelm(path string) error {
	out, err := exec.Command(path, "version", "--short").CombinedOutput()
	if err != nil {
		return fmt.Errorf("helm version: %w: %s", err, strings.TrimSpace(string(out)))
	}
	if v := strings.TrimSpace(string(out)); !strings.HasPrefix(v, "v3.") {
		return fmt.Errorf("want helm 3, got %q", v)
	}
	return nil
}

// missing fails under CI=true (helm must be available there) and skips
// otherwise, giving the reason.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: helm is required; set HELM or let the test build it)", msg)
	}
	t.Skipf("%s; set HELM=/path/to/helm to run the chart tests", msg)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
