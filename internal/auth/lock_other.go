//go:build !unix

package auth

import (
	"os"
	"sync"
)

var lockMu sync.Mutex

// lockFile serialises token file changes within this process only: other
// systems than Unix have no flock.
func lockFile(string) (func(), error) {
	lockMu.Lock()
	return lockMu.Unlock, nil
}

func fileIdentity(os.FileInfo) any { return nil }
