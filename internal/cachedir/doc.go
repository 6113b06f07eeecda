// Package cachedir names the one directory where friendly-vm keeps what it
// builds or fetches once and reuses: the patched UML kernel and TLC's jar.
package cachedir
