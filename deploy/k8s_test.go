package deploy_test

import (
	"bytes"
	"os"
	"path"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The subset of the Kubernetes objects the example uses, decoded strictly:
// a misspelt or misplaced field (concurencyPolicy, a volumeMounts under the
// pod) is an unknown field here, as it is for the API server.
type objectMeta struct {
	Name   string            `yaml:"name"`
	Labels map[string]string `yaml:"labels"`
}

type persistentVolumeClaim struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   objectMeta `yaml:"metadata"`
	Spec       struct {
		AccessModes []string `yaml:"accessModes"`
		Resources   struct {
			Requests map[string]string `yaml:"requests"`
		} `yaml:"resources"`
	} `yaml:"spec"`
}

type cronJob struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Metadata   objectMeta `yaml:"metadata"`
	Spec       struct {
		Schedule                   string `yaml:"schedule"`
		TimeZone                   string `yaml:"timeZone"`
		ConcurrencyPolicy          string `yaml:"concurrencyPolicy"`
		StartingDeadlineSeconds    int    `yaml:"startingDeadlineSeconds"`
		SuccessfulJobsHistoryLimit int    `yaml:"successfulJobsHistoryLimit"`
		FailedJobsHistoryLimit     int    `yaml:"failedJobsHistoryLimit"`
		JobTemplate                struct {
			Spec struct {
				BackoffLimit          int `yaml:"backoffLimit"`
				ActiveDeadlineSeconds int `yaml:"activeDeadlineSeconds"`
				Template              struct {
					Metadata objectMeta `yaml:"metadata"`
					Spec     podSpec    `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		} `yaml:"jobTemplate"`
	} `yaml:"spec"`
}

type podSpec struct {
	RestartPolicy                 string `yaml:"restartPolicy"`
	TerminationGracePeriodSeconds int    `yaml:"terminationGracePeriodSeconds"`
	AutomountServiceAccountToken  *bool  `yaml:"automountServiceAccountToken"`
	SecurityContext               struct {
		RunAsNonRoot   *bool `yaml:"runAsNonRoot"`
		RunAsUser      *int  `yaml:"runAsUser"`
		RunAsGroup     *int  `yaml:"runAsGroup"`
		FSGroup        *int  `yaml:"fsGroup"`
		SeccompProfile struct {
			Type string `yaml:"type"`
		} `yaml:"seccompProfile"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []volume    `yaml:"volumes"`
}

type container struct {
	Name            string   `yaml:"name"`
	Image           string   `yaml:"image"`
	ImagePullPolicy string   `yaml:"imagePullPolicy"`
	WorkingDir      string   `yaml:"workingDir"`
	Args            []string `yaml:"args"`
	Env             []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
}

type volume struct {
	Name     string `yaml:"name"`
	EmptyDir *struct {
		SizeLimit string `yaml:"sizeLimit"`
	} `yaml:"emptyDir"`
	PersistentVolumeClaim *struct {
		ClaimName string `yaml:"claimName"`
	} `yaml:"persistentVolumeClaim"`
	Secret *struct {
		SecretName  string `yaml:"secretName"`
		DefaultMode int    `yaml:"defaultMode"`
		Items       []struct {
			Key  string `yaml:"key"`
			Path string `yaml:"path"`
		} `yaml:"items"`
	} `yaml:"secret"`
}

// decodeStrict decodes one YAML document into v, refusing unknown fields.
func decodeStrict(t *testing.T, doc []byte, v any) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%T: %v", v, err)
	}
}

func loadCronJob(t *testing.T) (cronJob, persistentVolumeClaim) {
	t.Helper()
	b, err := os.ReadFile("k8s/a0bulk-sync.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cj cronJob
	var claim persistentVolumeClaim
	kinds := map[string]int{}
	for _, doc := range bytes.Split(b, []byte("\n---\n")) {
		var head struct {
			Kind string `yaml:"kind"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatal(err)
		}
		kinds[head.Kind]++
		switch head.Kind {
		case "CronJob":
			decodeStrict(t, doc, &cj)
		case "PersistentVolumeClaim":
			decodeStrict(t, doc, &claim)
		default:
			t.Errorf("unexpected kind %q", head.Kind)
		}
	}
	if kinds["CronJob"] != 1 || kinds["PersistentVolumeClaim"] != 1 {
		t.Fatalf("want one CronJob and one PersistentVolumeClaim, got %v", kinds)
	}
	return cj, claim
}

// TestCronJob: the Kubernetes example runs one sync at a time, as a
// non-root user, with its state and reports on the claim and the client
// secret read from a mounted Secret file by a flag a0bulk has.
func TestCronJob(t *testing.T) {
	cj, claim := loadCronJob(t)
	if cj.APIVersion != "batch/v1" || claim.APIVersion != "v1" {
		t.Errorf("apiVersions %q, %q; want batch/v1 and v1", cj.APIVersion, claim.APIVersion)
	}
	if cj.Spec.ConcurrencyPolicy != "Forbid" {
		t.Errorf("concurrencyPolicy %q: two syncs of one tenant must never run at once", cj.Spec.ConcurrencyPolicy)
	}
	if f := strings.Fields(cj.Spec.Schedule); len(f) != 5 {
		t.Errorf("schedule %q is not a 5-field cron schedule", cj.Spec.Schedule)
	}
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	if pod.RestartPolicy != "Never" && pod.RestartPolicy != "OnFailure" {
		t.Errorf("restartPolicy %q is not allowed in a Job", pod.RestartPolicy)
	}
	sc := pod.SecurityContext
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Error("the pod may run as root: want runAsNonRoot: true and a runAsUser other than 0")
	}
	if sc.FSGroup == nil {
		t.Error("no fsGroup: the non-root user cannot write to the claim")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if img := dockerfileUser(t); sc.RunAsUser != nil && img != "" && !strings.HasPrefix(img, itoa(*sc.RunAsUser)) {
		t.Errorf("runAsUser %d is not the image's USER %s", *sc.RunAsUser, img)
	}

	volumes := map[string]volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	mounts := map[string]string{} // mount path → volume
	for _, m := range c.VolumeMounts {
		if _, ok := volumes[m.Name]; !ok {
			t.Errorf("volumeMount %q names no volume", m.Name)
		}
		mounts[m.MountPath] = m.Name
	}
	// The state and the reports (the working directory) are on the claim.
	stateVol := volumes[mounts[mountOf(mounts, c.WorkingDir)]]
	if stateVol.PersistentVolumeClaim == nil || stateVol.PersistentVolumeClaim.ClaimName != claim.Metadata.Name {
		t.Errorf("the working directory %s (where reports go) is not on the claim %q", c.WorkingDir, claim.Metadata.Name)
	}

	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	sync := syncFlags(t)
	for name := range env {
		if _, ok := sync.env[name]; !ok {
			t.Errorf("env %s is read by no flag of a0bulk sync", name)
		}
	}
	if _, ok := env["AUTH0_CLIENT_SECRET"]; ok {
		t.Error("the client secret is in the environment; it must come from a file")
	}
	// The secret file is a key of the mounted Secret, read through the
	// variable of --client-secret-file.
	secretFile := env["AUTH0_CLIENT_SECRET_FILE"]
	if sync.env["AUTH0_CLIENT_SECRET_FILE"] != "client-secret-file" {
		t.Fatal("a0bulk sync has no --client-secret-file read from AUTH0_CLIENT_SECRET_FILE")
	}
	secretVol := volumes[mounts[path.Dir(secretFile)]]
	if secretVol.Secret == nil {
		t.Fatalf("AUTH0_CLIENT_SECRET_FILE=%s is not in a mounted Secret", secretFile)
	}
	found := false
	for _, it := range secretVol.Secret.Items {
		found = found || it.Path == path.Base(secretFile)
	}
	if !found {
		t.Errorf("the Secret %q has no item at %s", secretVol.Secret.SecretName, path.Base(secretFile))
	}

	// The command line: a0bulk sync with flags it has, state on the claim.
	if len(c.Args) == 0 || c.Args[0] != "sync" {
		t.Fatalf("args %q do not run a0bulk sync", c.Args)
	}
	given := sync.check(t, c.Args[1:])
	state, ok := given["state"]
	if !ok {
		t.Fatal("no --state: every run would send every user again")
	}
	if v := volumes[mounts[mountOf(mounts, state)]]; v.PersistentVolumeClaim == nil {
		t.Errorf("--state %s is not on the claim", state)
	}
	// The duplicate check spills to $TMPDIR (else /tmp) past 32 MB: with a
	// read-only root, /tmp must be a volume.
	if v, ok := volumes[mounts["/tmp"]]; !ok || v.EmptyDir == nil {
		t.Errorf("/tmp is not an emptyDir volume: the duplicate check of a large input could not spill")
	}
}

// mountOf is the mount path that holds p.
func mountOf(mounts map[string]string, p string) string {
	best := ""
	for m := range mounts {
		if (p == m || strings.HasPrefix(p, m+"/")) && len(m) > len(best) {
			best = m
		}
	}
	return best
}
