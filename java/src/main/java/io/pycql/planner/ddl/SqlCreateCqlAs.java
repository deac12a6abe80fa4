package io.pycql.planner.ddl;

import java.util.List;
import java.util.Map;
import org.apache.calcite.sql.SqlCreate;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlSpecialOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * {@code CREATE STREAM|TABLE [IF NOT EXISTS] name [WITH (k = 'v', ...)] AS query}: a
 * persistent query (a job) that writes the query's result to a new stream or table.
 */
public final class SqlCreateCqlAs extends SqlCreate {
  private static final SqlOperator OPERATOR =
      new SqlSpecialOperator("CREATE AS", SqlKind.OTHER_DDL);

  public final boolean stream;
  public final SqlIdentifier name;
  /** The WITH (key = 'value') pairs, keys lower-case, in order. */
  public final Map<String, String> options;
  public final SqlNode query;

  public SqlCreateCqlAs(SqlParserPos pos, boolean stream, boolean ifNotExists,
      SqlIdentifier name, Map<String, String> options, SqlNode query) {
    super(OPERATOR, pos, false, ifNotExists);
    this.stream = stream;
    this.name = name;
    this.options = options;
    this.query = query;
  }

  @Override public List<SqlNode> getOperandList() {
    return List.of(name, query);
  }

  @Override public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("CREATE");
    writer.keyword(stream ? "STREAM" : "TABLE");
    name.unparse(writer, 0, 0);
    writer.keyword("AS");
    query.unparse(writer, 0, 0);
  }
}
