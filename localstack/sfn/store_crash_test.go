package sfn

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
)

// The crash test's child: where its store is, after how many records it
// kills itself, with which fsync policy.
const (
	crashDirEnv   = "SFN_STORE_CRASH_DIR"
	crashAfterEnv = "SFN_STORE_CRASH_AFTER"
	crashSyncEnv  = "SFN_STORE_CRASH_SYNC"
)

// TestStoreCrashChild is TestStoreSurvivesKillAtEveryRecord's child process:
// it appends the first records of an execution log through a store and
// SIGKILLs itself right after, with no Close and no exit handlers.
func TestStoreCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("the child of TestStoreSurvivesKillAtEveryRecord")
	}
	after, _ := strconv.Atoi(os.Getenv(crashAfterEnv))
	sync, _ := strconv.Atoi(os.Getenv(crashSyncEnv))
	st := openTestStore(t, dir, SyncPolicy(sync))
	for _, r := range storeRecords()[:after] {
		st.append(storeExecARN, r)
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}

// TestStoreSurvivesKillAtEveryRecord kills a process that writes an
// execution log right after each record in turn, under each fsync policy:
// the next load recovers exactly the records written (status, history,
// where and on which token it resumes), repairs nothing (a kill between
// records leaves whole frames), and appending the rest of the log then
// reads back as the whole execution.
func TestStoreSurvivesKillAtEveryRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process per record")
	}
	recs := storeRecords()
	for _, policy := range []SyncPolicy{SyncNever, SyncDecisive, SyncAlways} {
		for k := 0; k <= len(recs); k++ {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestStoreCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashAfterEnv+"="+strconv.Itoa(k), crashSyncEnv+"="+strconv.Itoa(int(policy)))
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("policy %d, k %d: the child was not killed: %v\n%s", policy, k, err, out)
			}
			st, err := OpenStore(dir) // what the child left, machines.json included
			if err != nil {
				t.Fatal(err)
			}
			st.Sync = policy
			checkLoad(t, st, expect(recs[:k]))
			if r := st.Repairs(); len(r) != 0 {
				t.Fatalf("policy %d, k %d: a kill between records needed repairs: %+v", policy, k, r)
			}
			if k > 0 {
				b, _ := os.ReadFile(st.logPath(storeExecARN))
				if frames, good := readFrames(b, len(logHeader)); len(frames) != k || good != len(b) {
					t.Fatalf("policy %d, k %d: %d whole frames on disk, %d of %d bytes", policy, k, len(frames), good, len(b))
				}
			}
			for _, r := range recs[k:] {
				st.append(storeExecARN, r)
			}
			st.Close()
			checkLoad(t, openTestStore(t, dir, policy), expect(recs))
		}
	}
}
