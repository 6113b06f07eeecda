// Package host is the host side of the Friendly VM system: it builds the
// patched User-Mode Linux kernel (Debian's linux-source-6.1 plus
// uml-impl/patch, cached by source version and patch hash), boots guests
// with a hostfs root and a generated init script, pins each guest's whole
// host process tree to one host core, measures the host CPU time of that
// tree, enforces a deadline and collects what the guest wrote.
//
// A guest's host processes are the UML kernel process, its helpers and one
// SKAS0 stub process per guest address space. UML calls setsid(), so the
// tree is found by session id (robust to stubs being re-parented), and its
// CPU time is the sum of /proc/<pid>/schedstat run times, keeping the last
// value seen for processes that have exited.
//
// It also parses the kernel's /proc/fvm/ files (see uml-impl/README.md).
package host
