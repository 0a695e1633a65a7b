package deploy

import (
	"context"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const dockerfile = "Dockerfile"

// buildTimeout bounds building the version-stamp program: one small
// package over the standard library, cached after the first run.
const buildTimeout = 3 * time.Minute

// instruction is one Dockerfile instruction, its continuation lines joined.
type instruction struct{ cmd, args string }

// stage is one FROM and what follows it.
type stage struct {
	from string
	ins  []instruction
}

func parseDockerfile(t *testing.T) []stage {
	t.Helper()
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	var line string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			line += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		line += l
		cmd, args, _ := strings.Cut(strings.TrimSpace(line), " ")
		line = ""
		switch cmd = strings.ToUpper(cmd); cmd {
		case "":
		case "FROM":
			stages = append(stages, stage{from: args})
		default:
			if len(stages) == 0 {
				if cmd != "ARG" {
					t.Fatalf("%s before the first FROM", cmd)
				}
				continue
			}
			s := &stages[len(stages)-1]
			s.ins = append(s.ins, instruction{cmd, strings.Join(strings.Fields(args), " ")})
		}
	}
	return stages
}

func (s stage) all(cmd string) []string {
	var args []string
	for _, i := range s.ins {
		if i.cmd == cmd {
			args = append(args, i.args)
		}
	}
	return args
}

// TestDockerfileBuildsAStaticNonRootImage reads the Dockerfile (no engine
// can build it here): a build stage that makes a static binary stamped with
// its version, and a final stage of distroless static or scratch that runs
// it as a non-root user with nothing to run a shell.
func TestDockerfileBuildsAStaticNonRootImage(t *testing.T) {
	stages := parseDockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a final one", len(stages))
	}
	final := stages[len(stages)-1]
	if !regexp.MustCompile(`^(gcr\.io/distroless/static(-debian\d+)?:nonroot|scratch)$`).MatchString(final.from) {
		t.Errorf("final stage FROM %s, want distroless static nonroot or scratch", final.from)
	}
	if r := final.all("RUN"); len(r) > 0 {
		t.Errorf("the final stage RUNs %q: it has no shell", r)
	}
	users := final.all("USER")
	if len(users) != 1 || !regexp.MustCompile(`^[1-9]\d*(:[1-9]\d*)?$`).MatchString(users[0]) {
		t.Errorf("USER %q, want one numeric non-root user (Kubernetes' runAsNonRoot checks a number)", users)
	}
	var entry []string
	if e := final.all("ENTRYPOINT"); len(e) != 1 || json.Unmarshal([]byte(e[0]), &entry) != nil || !slices.Equal(entry, []string{"/burnwatch"}) {
		t.Errorf("ENTRYPOINT %q, want [\"/burnwatch\"] in exec form (no shell to run another)", e)
	}
	var cmd []string
	if c := final.all("CMD"); len(c) != 1 || json.Unmarshal([]byte(c[0]), &cmd) != nil || len(cmd) == 0 || cmd[0] != "serve" || !slices.Contains(cmd, "--storage.path=/data") {
		t.Errorf("CMD %q, want serve with --storage.path=/data in exec form", c)
	}
	if v := final.all("VOLUME"); !slices.Equal(v, []string{"/data"}) {
		t.Errorf("VOLUME %q, want /data", v)
	}
	if e := final.all("EXPOSE"); !slices.Equal(e, []string{"9099"}) {
		t.Errorf("EXPOSE %q, want 9099", e)
	}

	build := strings.Join(stages[0].all("RUN"), "\n")
	for _, want := range []string{"CGO_ENABLED=0 go build", "-trimpath", "./cmd/burnwatch"} {
		if !strings.Contains(build, want) {
			t.Errorf("the build stage does not run %q", want)
		}
	}
	args := stages[0].all("ARG")
	for _, a := range []string{"VERSION", "REVISION", "BRANCH", "BUILD_DATE"} {
		if !slices.ContainsFunc(args, func(s string) bool { return strings.HasPrefix(s, a+"=") }) {
			t.Errorf("no build arg %s with a default", a)
		}
	}
	checkVersionStamp(t, build)
}

// checkVersionStamp builds a program that prints
// github.com/prometheus/common/version with the Dockerfile's own -ldflags and
// CGO_ENABLED=0: the -X targets must exist (the linker ignores one that does
// not) and the binary must be static.
func checkVersionStamp(t *testing.T, build string) {
	t.Helper()
	m := regexp.MustCompile(`-ldflags "([^"]+)"`).FindStringSubmatch(build)
	if m == nil {
		t.Fatalf("no -ldflags \"…\" in the build stage")
	}
	stamp := map[string]string{"VERSION": "v9.8.7", "REVISION": "0123abc", "BRANCH": "release-9", "BUILD_DATE": "2026-12-01T00:00:00Z"}
	ldflags := regexp.MustCompile(`\$\{(\w+)\}`).ReplaceAllStringFunc(m[1], func(ref string) string {
		return stamp[strings.Trim(ref, "${}")]
	})
	bin := filepath.Join(t.TempDir(), "versionstamp")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "-ldflags", ldflags, "./testdata/versionstamp")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -ldflags %q: %v\n%s", ldflags, err, out)
	}
	out, err := exec.CommandContext(ctx, bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(out)), "v9.8.7 0123abc release-9 2026-12-01T00:00:00Z"; got != want {
		t.Errorf("the Dockerfile's -ldflags stamp %q, want %q", got, want)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the binary is dynamically linked: distroless static has no libc to load it with")
		}
	}
}
