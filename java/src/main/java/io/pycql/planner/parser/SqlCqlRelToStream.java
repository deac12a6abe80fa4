package io.pycql.planner.parser;

import io.pycql.planner.rel.RelToStreamKind;
import java.util.List;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlSpecialOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * {@code ISTREAM(query)}, {@code DSTREAM(query)} or {@code RSTREAM(query)} around a
 * whole query; {@code SELECT ISTREAM(*) FROM ...} is normalized to this form.
 */
public final class SqlCqlRelToStream extends SqlCall {
  public static final SqlOperator OPERATOR = new SqlSpecialOperator("CQL_REL_TO_STREAM",
      SqlKind.OTHER);

  public final RelToStreamKind kind;
  public final SqlNode query;

  public SqlCqlRelToStream(SqlParserPos pos, RelToStreamKind kind, SqlNode query) {
    super(pos);
    this.kind = kind;
    this.query = query;
  }

  @Override public SqlOperator getOperator() {
    return OPERATOR;
  }

  @Override public List<SqlNode> getOperandList() {
    return List.of(query);
  }

  @Override public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword(kind.name());
    SqlWriter.Frame f = writer.startList("(", ")");
    query.unparse(writer, 0, 0);
    writer.endList(f);
  }
}
