package io.pycql.planner.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pycql.planner.optimize.CqlOptimizer;
import io.pycql.planner.optimize.PlanFixture;
import io.pycql.planner.rel.RelToStreamKind;
import io.pycql.planner.rel.WindowSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.JoinRelType;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.junit.jupiter.api.Test;

class PlanJsonWriterTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private final PlanFixture f = new PlanFixture();

  private static ObjectNode plan(RelNode logical, String topic) {
    return PlanJsonWriter.write(CqlOptimizer.optimize(logical, Set.of()), "q", topic,
        List.of(), true);
  }

  private static JsonNode op(JsonNode doc, String op) {
    for (JsonNode o : doc.get("operators")) {
      if (o.get("op").asText().equals(op)) {
        return o;
      }
    }
    throw new AssertionError("no " + op + " in " + doc);
  }

  private static JsonNode json(String text) throws Exception {
    return MAPPER.readTree(text.replace('\'', '"'));
  }

  @Test void wholeDocumentOfAStreamFilter() throws Exception {
    // SELECT ISTREAM car_id FROM PosSpeedStr WHERE speed > 65  (no window = UNBOUNDED)
    f.window("PosSpeedStr", WindowSpec.unbounded());
    f.b.filter(f.b.call(SqlStdOperatorTable.GREATER_THAN, f.b.field("speed"), f.b.literal(65)))
        .project(f.b.field("car_id"));
    RelNode logical = f.toStream(RelToStreamKind.ISTREAM).build();
    ObjectNode doc = PlanJsonWriter.write(CqlOptimizer.optimize(logical, Set.of()),
        "SELECT ISTREAM car_id FROM PosSpeedStr WHERE speed > 65", "fast-cars",
        List.of(Map.of("index", 0, "type", "INTEGER")), true);
    String intCol = "{'name':'car_id','type':'INTEGER','nullable':true}";
    String none = "{'kind':'none','bound':null,'keys':[]}";
    assertEquals(json("{'pycql_plan':1,"
        + "'sql':'SELECT ISTREAM car_id FROM PosSpeedStr WHERE speed > 65',"
        + "'result':{'kind':'stream','columns':[" + intCol + "]},"
        + "'params':[{'index':0,'type':'INTEGER'}],"
        + "'root':1,"
        + "'operators':["
        + "{'id':0,'op':'source','inputs':[],'columns':[" + intCol + ","
        + "{'name':'speed','type':'INTEGER','nullable':true},"
        + "{'name':'pos','type':'INTEGER','nullable':true}],"
        + "'output':'stream','state':" + none + ",'reads':['pos-speed'],'writes':[],"
        + "'name':'PosSpeedStr','source_kind':'stream','topic':'pos-speed','timestamp':null,"
        + "'format':'json','primary_key':[],'partitions':1,'partition_key':[]},"
        + "{'id':1,'op':'stream_filter','inputs':[0],'columns':[" + intCol + "],"
        + "'output':'stream','state':" + none + ",'reads':[],'writes':['fast-cars'],"
        + "'condition':{'kind':'call','op':'>','sqlkind':'GREATER_THAN','operands':["
        + "{'kind':'input','index':1,'type':'INTEGER','nullable':true},"
        + "{'kind':'literal','value':65,'type':'INTEGER','nullable':false}],"
        + "'type':'BOOLEAN','nullable':true},"
        + "'exprs':[{'kind':'input','index':0,'type':'INTEGER','nullable':true}]}],"
        + "'stages':[{'id':0,'tasks':1,'operators':[0,1],'reads':['pos-speed'],'upstream':[],"
        + "'writes':['fast-cars']}]}"),
        MAPPER.readTree(doc.toString()));
  }

  @Test void operatorsAreTopologicallySortedAndStatesBounded() {
    // ISTREAM(SELECT car_id, COUNT(*) FROM PosSpeedStr [RANGE 30 SECONDS] GROUP BY car_id)
    f.window("PosSpeedStr", WindowSpec.range(30_000));
    f.b.aggregate(f.b.groupKey("car_id"), f.b.count());
    ObjectNode doc = plan(f.toStream(RelToStreamKind.ISTREAM).build(), null);
    List<String> ops = new ArrayList<>();
    for (JsonNode o : doc.get("operators")) {
      for (JsonNode input : o.get("inputs")) {
        assertTrue(input.asInt() < o.get("id").asInt(), "inputs first: " + o);
      }
      ops.add(o.get("op").asText());
    }
    assertEquals(List.of("source", "window", "aggregate", "istream"), ops);
    assertEquals(3, doc.get("root").asInt());
    assertEquals(MAPPER.createArrayNode(), op(doc, "istream").get("writes"));
    assertEquals("{\"kind\":\"range\",\"range_ms\":30000,\"slide_ms\":null}",
        op(doc, "window").get("window").toString());
    assertEquals("{\"kind\":\"range\",\"bound\":30000,\"keys\":[]}",
        op(doc, "window").get("state").toString());
    assertEquals("{\"kind\":\"unbounded\",\"bound\":null,\"keys\":[0]}",
        op(doc, "aggregate").get("state").toString());
    assertEquals("[{\"fn\":\"COUNT\",\"args\":[],\"distinct\":false,\"name\":\"$f1\","
        + "\"type\":\"BIGINT\",\"nullable\":false}]", op(doc, "aggregate").get("aggs").toString());
    // ISTREAM keeps the previous instant's aggregate: as many rows as the window can group
    assertEquals("{\"kind\":\"range\",\"bound\":30000,\"keys\":[0,1]}",
        op(doc, "istream").get("state").toString());
    assertEquals("relation", op(doc, "aggregate").get("output").asText());
    assertEquals("stream", op(doc, "istream").get("output").asText());
  }

  @Test void windowKindsAndTheirStates() {
    Object[][] cases = {
        {WindowSpec.now(), "{\"kind\":\"now\"}", "{\"kind\":\"range\",\"bound\":0,\"keys\":[]}"},
        {WindowSpec.unbounded(), "{\"kind\":\"unbounded\"}",
            "{\"kind\":\"unbounded\",\"bound\":null,\"keys\":[]}"},
        {WindowSpec.range(3_600_000, 300_000),
            "{\"kind\":\"range\",\"range_ms\":3600000,\"slide_ms\":300000}",
            "{\"kind\":\"range\",\"bound\":3600000,\"keys\":[]}"},
        {WindowSpec.rows(10), "{\"kind\":\"rows\",\"rows\":10,\"slide_rows\":null}",
            "{\"kind\":\"rows\",\"bound\":10,\"keys\":[]}"},
        {WindowSpec.rows(10, 4), "{\"kind\":\"rows\",\"rows\":10,\"slide_rows\":4}",
            "{\"kind\":\"rows\",\"bound\":13,\"keys\":[]}"},
        {WindowSpec.partition(List.of(0, 2), 3),
            "{\"kind\":\"partition\",\"partition_by\":[0,2],\"rows\":3,"
            + "\"slide_rows\":null}",
            "{\"kind\":\"rows\",\"bound\":3,\"keys\":[0,2]}"},
        {WindowSpec.partition(List.of(1), 3, 3),
            "{\"kind\":\"partition\",\"partition_by\":[1],\"rows\":3,\"slide_rows\":3}",
            "{\"kind\":\"rows\",\"bound\":5,\"keys\":[1]}"},
        {WindowSpec.session(List.of(), 30_000),
            "{\"kind\":\"session\",\"partition_by\":[],\"gap_ms\":30000}",
            "{\"kind\":\"unbounded\",\"bound\":null,\"keys\":[]}"},
        {WindowSpec.session(List.of(0), 10_000),
            "{\"kind\":\"session\",\"partition_by\":[0],\"gap_ms\":10000}",
            "{\"kind\":\"unbounded\",\"bound\":null,\"keys\":[0]}"},
    };
    for (Object[] c : cases) {
      f.window("PosSpeedStr", (WindowSpec) c[0]);
      ObjectNode doc = PlanJsonWriter.write(f.b.build(), "q", null, List.of(), false);
      assertEquals(c[1], op(doc, "window").get("window").toString());
      assertEquals(c[2], op(doc, "window").get("state").toString());
      assertEquals("relation", doc.get("result").get("kind").asText());
    }
  }

  @Test void sharedWindowIsOneOperatorWithTwoConsumers() {
    // SELECT * FROM S [ROWS 10] WHERE speed > 65 UNION ALL SELECT * FROM S [ROWS 10] WHERE ...
    f.window("PosSpeedStr", WindowSpec.rows(10));
    f.b.filter(f.b.call(SqlStdOperatorTable.GREATER_THAN, f.b.field("speed"), f.b.literal(65)));
    f.window("PosSpeedStr", WindowSpec.rows(10));
    f.b.filter(f.b.call(SqlStdOperatorTable.LESS_THAN, f.b.field("speed"), f.b.literal(10)));
    RelNode logical = f.b.union(true).build();
    ObjectNode doc = PlanJsonWriter.write(CqlOptimizer.optimize(logical, Set.of()), "q", null,
        List.of(), false);
    List<String> ops = new ArrayList<>();
    doc.get("operators").forEach(o -> ops.add(o.get("op").asText()));
    assertEquals(List.of("source", "window", "filter", "filter", "union"), ops);
    int window = op(doc, "window").get("id").asInt();
    int consumers = 0;
    for (JsonNode o : doc.get("operators")) {
      for (JsonNode input : o.get("inputs")) {
        consumers += input.asInt() == window ? 1 : 0;
      }
    }
    assertEquals(2, consumers);
    // unshared: two window operators
    ObjectNode unshared = PlanJsonWriter.write(CqlOptimizer.optimize(logical,
        Set.of("SharedSubplanRule")), "q", null, List.of(), false);
    assertEquals(7, unshared.get("operators").size());
  }

  @Test void joinKeysResidualAndInputStates() {
    // SELECT * FROM PosSpeedStr [ROWS 5] p JOIN Cars c ON p.car_id = c.car_id AND p.speed > c.car_id
    f.window("PosSpeedStr", WindowSpec.rows(5));
    f.b.scan("Cars");
    f.b.join(JoinRelType.INNER, f.b.and(
        f.b.equals(f.b.field(2, 0, "car_id"), f.b.field(2, 1, "car_id")),
        f.b.call(SqlStdOperatorTable.GREATER_THAN, f.b.field(2, 0, "speed"),
            f.b.field(2, 1, "car_id"))));
    ObjectNode doc = PlanJsonWriter.write(CqlOptimizer.optimize(f.b.build(), Set.of()), "q",
        null, List.of(), false);
    JsonNode join = op(doc, "join");
    assertEquals("inner", join.get("join_type").asText());
    assertEquals("[0]", join.get("left_keys").toString());
    assertEquals("[0]", join.get("right_keys").toString());
    assertEquals("GREATER_THAN", join.get("residual").get("sqlkind").asText());
    assertEquals("{\"kind\":\"unbounded\",\"bound\":null,\"keys\":[],\"inputs\":["
        + "{\"kind\":\"rows\",\"bound\":5,\"keys\":[0]},"
        + "{\"kind\":\"unbounded\",\"bound\":null,\"keys\":[0]}]}",
        join.get("state").toString());
    JsonNode cars = doc.get("operators").get(join.get("inputs").get(1).asInt());
    assertEquals("table", cars.get("source_kind").asText());
    assertEquals("relation", cars.get("output").asText());
  }

  @Test void lookupJoinKeepsOnlyTheRelation() {
    f.window("PosSpeedStr", WindowSpec.now());
    f.b.scan("Cars");
    f.b.join(JoinRelType.INNER, f.b.equals(f.b.field(2, 0, "car_id"), f.b.field(2, 1, "car_id")));
    ObjectNode doc = plan(f.toStream(RelToStreamKind.RSTREAM).build(), "out");
    JsonNode join = op(doc, "lookup_join");
    assertEquals(doc.get("root").asInt(), join.get("id").asInt());
    assertEquals("stream", join.get("output").asText());
    assertEquals("[\"out\"]", join.get("writes").toString());
    assertEquals("{\"kind\":\"unbounded\",\"bound\":null,\"keys\":[0]}",
        join.get("state").toString());
    assertEquals("[0]", join.get("left_keys").toString());
    assertEquals("null", join.get("residual").toString());
  }

  @Test void sortValuesAndSetOperations() {
    f.window("PosSpeedStr", WindowSpec.rows(100));
    f.b.project(f.b.field("car_id"));
    f.b.values(new String[] {"car_id"}, 1, 2);
    f.b.minus(false);
    f.b.sortLimit(0, 3, f.b.desc(f.b.field(0)));
    ObjectNode doc = plan(f.b.build(), null);
    JsonNode sort = op(doc, "sort");
    assertEquals("[{\"field\":0,\"direction\":\"DESC\",\"nulls\":\"FIRST\"}]",
        sort.get("collation").toString());
    assertEquals(0, sort.get("offset").asInt());
    assertEquals(3, sort.get("fetch").asInt());
    // to keep the top 3 under deletions the sort keeps its whole input: the 100-row window
    assertEquals("{\"kind\":\"rows\",\"bound\":100,\"keys\":[]}",
        sort.get("state").toString());
    JsonNode values = op(doc, "values");
    assertEquals("[[{\"kind\":\"literal\",\"value\":1,\"type\":\"INTEGER\",\"nullable\":false}],"
        + "[{\"kind\":\"literal\",\"value\":2,\"type\":\"INTEGER\",\"nullable\":false}]]",
        values.get("rows").toString());
    JsonNode minus = op(doc, "minus");
    assertEquals(false, minus.get("all").asBoolean());
    assertEquals("{\"kind\":\"rows\",\"bound\":102,\"keys\":[0]}", minus.get("state").toString());
  }

  @Test void groupingSetsAreWrittenWithTheirSets() {
    f.window("PosSpeedStr", WindowSpec.now());
    f.b.aggregate(f.b.groupKey(org.apache.calcite.util.ImmutableBitSet.of(0),
        List.of(org.apache.calcite.util.ImmutableBitSet.of(0),
            org.apache.calcite.util.ImmutableBitSet.of())), f.b.count());
    ObjectNode doc = PlanJsonWriter.write(f.b.build(), "q", null, List.of(), false);
    JsonNode agg = op(doc, "aggregate");
    assertEquals("[0]", agg.get("group").toString());
    assertEquals("[[0],[]]", agg.get("group_sets").toString());
  }
}
