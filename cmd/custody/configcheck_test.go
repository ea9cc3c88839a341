package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `custody config check` refuses the addresses and durations that cannot
// work, naming each field (it accepted all of these).
func TestConfigCheck_RefusesBadAddressesAndDurations(t *testing.T) {
	run := func(yaml string) (string, error) {
		path := filepath.Join(t.TempDir(), "custody.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := newConfigCmd(&globalFlags{configPath: path, dataDir: t.TempDir()})
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs([]string{"check"})
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		err := cmd.Execute()
		return out.String(), err
	}
	_, err := run(`http: {addr: "not an addr", write_timeout: 1ns, read_timeout: -5s}
tenants: {inkcartridges: {default_phone_region: XX}}
`)
	for _, w := range []string{"config http.addr: ", "config http.write_timeout: ", "config http.read_timeout: ", "config tenants.inkcartridges.default_phone_region: "} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("config check = %v; want it to name %q", err, w)
		}
	}
	if out, err := run("http: {addr: \":8080\", read_timeout: 1s, write_timeout: 2m}\ntenants: {inkcartridges: {default_phone_region: GB}}\n"); err != nil || !strings.Contains(out, "configuration ok") {
		t.Errorf("config check of a good file = %q, %v", out, err)
	}
}
