// FVMDistributedTLC starts TLC's own distributed engine (tlc2.tool.distributed:
// TLCServer, TLCWorker) with two changes that tla2tools.jar v1.8.0 needs here.
// Package tla (distributed.go) compiles it with javac at run time; it is not a
// model checker of its own: the search, the fingerprint set, the state queue
// and the reports are TLC's.
//
//  1. TLC commit 6fde5a9 ("Remove RMI dependency from FPSet for CheerpJ
//     compatibility", in v1.8.0) made tlc2.tool.fp.FPSet a plain object
//     instead of a UnicastRemoteObject. TLCServer hands its fingerprint set to
//     every worker inside a NonDistributedFPSetManager; since nothing exports
//     the set any more, RMI tries to serialize it and every worker dies with
//     "NotSerializableException: tlc2.tool.fp.MultiFPSet". The server mode
//     below is TLCServer with one override: it exports the fingerprint set
//     (UnicastRemoteObject.exportObject), which is what the FPSet constructor
//     did before that commit, so workers get a remote reference again.
//  2. Every RMI server socket (the registry, the server, the fingerprint set,
//     the workers) is bound to the address that java.rmi.server.hostname
//     names (127.0.0.1 when unset), not to every interface: Java RMI has no
//     property for a bind address, so a global RMISocketFactory does it.
//  3. The server hands out no states before fvm.tlc.workerThreads worker
//     threads have registered (Gate, installed through TLC's own hook, the
//     system property tlc2.tool.distributed.selector.factory). TLCServer
//     starts the search as soon as the first worker registers. In one CI
//     run a worker registered while the search was under way, and within
//     five seconds the server died with a NullPointerException ("this.states"
//     is null, TLCServerThread#getCurrentSize, in a progress line): a server
//     thread had been told the search was over at 839 of 12435 states. We
//     did not find TLC's mechanism (tla/README.md); with every worker
//     registered first, no thread joins a running search and no worker
//     registers after the end.
//
// Usage (tla2tools.jar and this class's directory on the class path):
//
//	java -Djava.rmi.server.hostname=127.0.0.1 -Dtlc2.tool.distributed.TLCServer.port=P \
//	     -Dtlc2.tool.distributed.selector.factory='FVMDistributedTLC$GatedSelectors' \
//	     -Dfvm.tlc.workerThreads=N \
//	     FVMDistributedTLC server [TLCServer options] -config MC.cfg MC.tla
//	java -Djava.rmi.server.hostname=127.0.0.1 -Dtlc2.tool.distributed.TLCServer.port=P \
//	     FVMDistributedTLC worker 127.0.0.1
//
// The server exits with status 0 when TLC's model check returned (its output
// says whether a property was violated), 12 when it threw, 2 on bad
// arguments.

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.rmi.server.RMISocketFactory;
import java.rmi.server.UnicastRemoteObject;

import tlc2.TLCGlobals;
import tlc2.output.EC;
import tlc2.output.MP;
import tlc2.tool.distributed.TLCApp;
import tlc2.tool.distributed.TLCServer;
import tlc2.tool.TLCState;
import tlc2.tool.distributed.TLCWorker;
import tlc2.tool.distributed.TLCWorkerRMI;
import tlc2.tool.distributed.selector.BlockSelectorFactory;
import tlc2.tool.distributed.selector.IBlockSelector;
import tlc2.tool.queue.IStateQueue;
import tlc2.tool.distributed.fp.IFPSetManager;
import tlc2.tool.distributed.fp.NonDistributedFPSetManager;
import tlc2.tool.fp.FPSet;
import tlc2.tool.fp.FPSetFactory;

public final class FVMDistributedTLC {

	/** Binds every RMI server socket to one address. */
	static final class BoundSockets extends RMISocketFactory {
		private final InetAddress bind;

		BoundSockets(InetAddress bind) {
			this.bind = bind;
		}

		@Override
		public ServerSocket createServerSocket(int port) throws IOException {
			return new ServerSocket(port, 50, bind);
		}

		@Override
		public Socket createSocket(String host, int port) throws IOException {
			return new Socket(host, port);
		}
	}

	/**
	 * The system property naming how many worker threads the server waits
	 * for (each TLCWorker JVM registers one per thread).
	 */
	static final String WORKER_THREADS = "fvm.tlc.workerThreads";

	/** TLC's block selectors behind a gate that opens once every worker has registered. */
	public static final class GatedSelectors extends BlockSelectorFactory {
		@Override
		protected IBlockSelector getSelector(TLCServer server) {
			final int want = Integer.getInteger(WORKER_THREADS, 1);
			// Package tla checks for this line: TLC falls back to its own
			// selector, silently, when it cannot load this factory.
			System.out.println("FVM gate: no states before " + want + " worker threads have registered");
			return new Gate(server, super.getSelector(server), want);
		}
	}

	static final class Gate implements IBlockSelector {
		private final TLCServer server;
		private final IBlockSelector inner;
		private final int want;
		private volatile boolean open;

		Gate(TLCServer server, IBlockSelector inner, int want) {
			this.server = server;
			this.inner = inner;
			this.want = want;
		}

		@Override
		public TLCState[] getBlocks(IStateQueue queue, TLCWorkerRMI worker) {
			if (!open) {
				synchronized (this) {
					// A thread waiting here holds no states, so the queue's
					// end-of-search count (waiting threads against workers)
					// is not disturbed. The server's registration lines show
					// a worker that never registers; fvm's timeout ends the run.
					while (server.getWorkerCount() < want) {
						try {
							wait(20);
						} catch (InterruptedException e) {
							// Nothing interrupts these threads; if something
							// does, open the gate rather than return null,
							// which TLC reads as the end of the search.
							Thread.currentThread().interrupt();
							break;
						}
					}
					if (!open) {
						open = true;
						System.out.println("FVM gate: " + server.getWorkerCount() + " worker threads registered, the search starts");
					}
				}
			}
			return inner.getBlocks(queue, worker);
		}

		@Override
		public void setMaxTXSize(int size) {
			inner.setMaxTXSize(size);
		}

		@Override
		public long getAverageBlockCnt() {
			return inner.getAverageBlockCnt();
		}
	}

	/** TLCServer whose fingerprint set is exported over RMI again. */
	static final class Server extends TLCServer {
		Server(TLCApp work) throws Exception {
			super(work);
		}

		@Override
		protected IFPSetManager getFPSetManagerImpl(TLCApp work, String metadir, int fpsetCount)
				throws IOException {
			// As TLCServer#getFPSetManagerImpl, plus the export.
			final FPSet fpSet = FPSetFactory.getFPSet(work.getFPSetConfiguration());
			fpSet.init(1, metadir, work.getFileName());
			UnicastRemoteObject.exportObject(fpSet, 0);
			return new NonDistributedFPSetManager(fpSet, System.getProperty("java.rmi.server.hostname"), trace);
		}

		/** The model check of TLCServer#main, without its mail and JMX hooks. */
		static int run(String[] args) throws Exception {
			MP.printMessage(EC.TLC_VERSION, "TLC Server " + TLCGlobals.Version.get());
			TLCGlobals.setNumWorkers(0);
			final TLCApp app = TLCApp.create(args);
			if (app == null) {
				return 2; // TLCApp printed the usage
			}
			final Server server = new Server(app);
			server.modelCheck();
			return 0;
		}
	}

	public static void main(String[] args) throws Exception {
		if (args.length < 1 || !(args[0].equals("server") || args[0].equals("worker"))) {
			System.err.println("usage: FVMDistributedTLC server [TLCServer options] SPEC.tla | worker HOST");
			System.exit(2);
		}
		final String host = System.getProperty("java.rmi.server.hostname", "127.0.0.1");
		System.setProperty("java.rmi.server.hostname", host);
		RMISocketFactory.setSocketFactory(new BoundSockets(InetAddress.getByName(host)));
		final String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
		if (args[0].equals("worker")) {
			// Returns once its threads have registered; they run until the
			// server calls exit() on them.
			TLCWorker.main(rest);
			return;
		}
		int status;
		try {
			status = Server.run(rest);
		} catch (Throwable e) {
			MP.printError(EC.GENERAL, e);
			status = 12;
		}
		MP.flush();
		System.exit(status);
	}
}
