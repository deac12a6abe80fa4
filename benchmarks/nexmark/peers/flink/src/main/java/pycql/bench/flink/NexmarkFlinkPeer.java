package pycql.bench.flink;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.execution.ExecutionState;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;

/**
 * One Nexmark query in Flink SQL on a local MiniCluster at parallelism 1, over pycql's
 * Kafka topics, read from the earliest offset to the offsets at the job's start
 * ({@code scan.bounded.mode = latest-offset}), so the job ends by itself.
 *
 * <p>Usage: {@code NexmarkFlinkPeer BOOTSTRAP TOPIC_PREFIX QUERY ROWS_FILE}. Prints one JSON
 * line on stdout: wall and JVM CPU seconds of the query, output rows, peak RSS; writes the
 * output rows to {@code ROWS_FILE} (one JSON array per line, the row kind first: +I, -U, +U,
 * -D; timestamps as epoch milliseconds).
 *
 * <p>What is measured: the JVM's process CPU time ({@code OperatingSystemMXBean
 * .getProcessCpuTime}, every thread: tasks, Kafka client, JIT, GC, the MiniCluster's own)
 * from the moment every task of the job is RUNNING (Flink switches a task to RUNNING after
 * its operators are initialized and opened, which is when the planner's generated code has
 * been compiled) to the job's result. JVM start, SQL planning, the MiniCluster's start, job
 * submission and task deployment come before that and are reported apart
 * ({@code setup_cpu_s}).
 */
public final class NexmarkFlinkPeer {

    /** The rows the sink saw, in arrival order: [kind, field, ...]. */
    static final ConcurrentLinkedQueue<Object[]> ROWS = new ConcurrentLinkedQueue<>();

    private NexmarkFlinkPeer() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: NexmarkFlinkPeer BOOTSTRAP TOPIC_PREFIX QUERY ROWS_FILE");
            System.exit(2);
        }
        String bootstrap = args[0];
        String prefix = args[1];
        String query = args[2];
        Path rowsFile = Path.of(args[3]);
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean)
                        ManagementFactory.getOperatingSystemMXBean();

        Configuration conf = configuration();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        StreamTableEnvironment tEnv = StreamTableEnvironment.create(
                env, EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(conf)
                        .build());
        for (String ddl : ddl(bootstrap, prefix, query)) {
            tEnv.executeSql(ddl);
        }
        Table table = tEnv.sqlQuery(resource("queries/" + query + ".sql"));
        DataStream<Row> changes = tEnv.toChangelogStream(table);
        changes.sinkTo(new CollectingSink()).name("collect");
        StreamGraph graph = env.getStreamGraph();

        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(conf).setNumTaskManagers(1).setNumSlotsPerTaskManager(1)
                .build());
        cluster.start();
        JobID job = cluster.submitJob(graph).get().getJobID();
        waitUntilRunning(cluster, job);
        long c0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        JobResult result = cluster.requestJobResult(job).get();
        long t1 = System.nanoTime();
        long c1 = os.getProcessCpuTime();
        cluster.closeAsync().get();

        Map<String, Object> out = new LinkedHashMap<>();
        if (!result.isSuccess()) {
            Throwable error = result.getSerializedThrowable()
                    .map(t -> t.deserializeError(NexmarkFlinkPeer.class.getClassLoader()))
                    .orElse(new RuntimeException("the job failed"));
            out.put("error", rootMessage(error));
        }
        long emitted = writeRows(rowsFile);
        out.put("wall_s", (t1 - t0) / 1e9);
        out.put("cpu_s", (c1 - c0) / 1e9);
        out.put("setup_cpu_s", c0 / 1e9);
        out.put("emitted", emitted);
        out.put("rows_file", rowsFile.toString());
        out.put("max_rss_mb", peakRssMb());
        out.put("flink_version", org.apache.flink.runtime.util.EnvironmentInformation
                .getVersion());
        System.out.println(new ObjectMapper().writeValueAsString(out));
        System.out.flush();
        System.exit(0);
    }

    /**
     * The settings: Flink's performance-tuning guide for SQL and nexmark-flink's own
     * config.yaml (the settings Flink's Nexmark results are published with), less what does
     * not apply to a bounded single-slot run.
     */
    static Configuration configuration() {
        Configuration conf = new Configuration();
        conf.setString("execution.runtime-mode", "STREAMING");
        conf.setString("parallelism.default", "1");
        conf.setString("table.exec.resource.default-parallelism", "1");
        // records are handed between chained operators without a defensive copy
        conf.setString("pipeline.object-reuse", "true");
        // state on the JVM heap (HashMapStateBackend): the fastest backend while state fits
        // in memory, which it does at these sizes (nexmark-flink uses RocksDB for its
        // multi-hour runs, at a cost per state access)
        conf.setString("state.backend.type", "hashmap");
        // mini-batch aggregation, as nexmark-flink's config.yaml: buffer input and update
        // each key's aggregate once per batch (the tuning guide's first advice)
        conf.setString("table.exec.mini-batch.enabled", "true");
        conf.setString("table.exec.mini-batch.allow-latency", "2s");
        conf.setString("table.exec.mini-batch.size", "50000");
        conf.setString("table.optimizer.distinct-agg.split.enabled", "true");
        // no checkpoints: the runs are bounded and nothing is recovered (pycql's runs commit
        // nothing either); window starts and ends are in UTC
        conf.setString("table.local-time-zone", "UTC");
        return conf;
    }

    /** The tables of pycql's topics (snake_case JSON fields; times in epoch ms). */
    static List<String> ddl(String bootstrap, String prefix, String query) {
        String common = "'connector' = 'kafka', "
                + "'properties.bootstrap.servers' = '" + bootstrap + "', "
                + "'properties.group.id' = 'nexmark-flink-" + query + "-" + System.nanoTime() + "', "
                + "'scan.startup.mode' = 'earliest-offset', "
                + "'scan.bounded.mode' = 'latest-offset', "
                // larger fetches than the Kafka client's defaults (500 records a poll)
                + "'properties.max.poll.records' = '10000', "
                + "'properties.fetch.min.bytes' = '65536', "
                + "'format' = 'json', "
                + "'json.fail-on-missing-field' = 'false', "
                + "'json.ignore-parse-errors' = 'false'";
        // The watermark trails the newest event time by 4 s, as nexmark-flink's DDL.
        String watermark = "WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND";
        List<String> out = new ArrayList<>();
        out.add("CREATE TABLE person (id BIGINT, name STRING, email_address STRING, "
                + "credit_card STRING, city STRING, state STRING, date_time BIGINT, "
                + "extra STRING, `dateTime` AS TO_TIMESTAMP_LTZ(date_time, 3), " + watermark
                + ") WITH (" + common + ", 'topic' = '" + prefix + "person')");
        out.add("CREATE TABLE auction (id BIGINT, item_name STRING, description STRING, "
                + "initial_bid BIGINT, reserve BIGINT, date_time BIGINT, expires BIGINT, "
                + "seller BIGINT, category BIGINT, extra STRING, "
                + "`dateTime` AS TO_TIMESTAMP_LTZ(date_time, 3), " + watermark
                + ") WITH (" + common + ", 'topic' = '" + prefix + "auction')");
        out.add("CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT, "
                + "channel STRING, url STRING, date_time BIGINT, extra STRING, "
                + "`dateTime` AS TO_TIMESTAMP_LTZ(date_time, 3), " + watermark
                + ") WITH (" + common + ", 'topic' = '" + prefix + "bid')");
        // q13's side table: its records' Kafka timestamps are its event times; the versioned
        // view (a deduplication on the key, Flink's documented form) is what an event-time
        // temporal join reads.
        out.add("CREATE TABLE side_input_log (side_key BIGINT, side_value STRING, "
                + "ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp', "
                + "WATERMARK FOR ts AS ts) WITH (" + common + ", 'topic' = '" + prefix
                + "side_input')");
        out.add("CREATE VIEW side_input AS SELECT side_key, side_value, ts FROM ("
                + "SELECT *, ROW_NUMBER() OVER (PARTITION BY side_key ORDER BY ts DESC) AS rn "
                + "FROM side_input_log) WHERE rn = 1");
        return out;
    }

    static void waitUntilRunning(MiniCluster cluster, JobID job) throws Exception {
        while (true) {
            AccessExecutionGraph graph = cluster.getExecutionGraph(job).get();
            if (graph.getState().isTerminalState()) {
                return;
            }
            boolean running = true;
            for (AccessExecutionVertex vertex : graph.getAllExecutionVertices()) {
                ExecutionState state = vertex.getExecutionState();
                if (state != ExecutionState.RUNNING && state != ExecutionState.FINISHED) {
                    running = false;
                    break;
                }
            }
            if (running) {
                return;
            }
            Thread.sleep(2);
        }
    }

    static long writeRows(Path file) throws IOException {
        long n = 0;
        ObjectMapper mapper = new ObjectMapper();
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Object[] row : ROWS) {
                Object[] plain = new Object[row.length];
                for (int i = 0; i < row.length; i++) {
                    plain[i] = plain(row[i]);
                }
                w.write(mapper.writeValueAsString(plain));
                w.write('\n');
                n++;
            }
        }
        return n;
    }

    /** A JSON value: timestamps as epoch ms, decimals as numbers. */
    static Object plain(Object value) {
        if (value instanceof Instant instant) {
            return instant.toEpochMilli();
        }
        if (value instanceof LocalDateTime time) {
            return time.toInstant(ZoneOffset.UTC).toEpochMilli();
        }
        if (value instanceof BigDecimal decimal) {
            return decimal.doubleValue();
        }
        return value;
    }

    static String resource(String name) throws IOException {
        try (InputStream in = NexmarkFlinkPeer.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("no query " + name);
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            StringBuilder sql = new StringBuilder();
            for (String line : text.split("\n")) {
                if (!line.strip().startsWith("--")) {
                    sql.append(line).append('\n');
                }
            }
            return sql.toString();
        }
    }

    static double peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.split("\\s+")[1]) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux: no figure
        }
        return -1;
    }

    static String rootMessage(Throwable error) {
        Throwable t = error;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    /** Keeps each row (kind and field values) in {@link #ROWS}: one JVM, parallelism 1. */
    static final class CollectingSink implements Sink<Row> {
        private static final long serialVersionUID = 1L;

        @Override
        public SinkWriter<Row> createWriter(WriterInitContext context) {
            return new SinkWriter<>() {
                @Override
                public void write(Row row, Context context) {
                    Object[] copy = new Object[row.getArity() + 1];
                    copy[0] = row.getKind().shortString();
                    for (int i = 0; i < row.getArity(); i++) {
                        copy[i + 1] = row.getField(i);
                    }
                    ROWS.add(copy);
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }
}
