package io.pycql.planner.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class FunctionSuggestionsTest {
  @Test void closeNamesAreSuggestedBestFirst() {
    assertEquals(List.of("FLOOR"), FunctionSuggestions.closest("FOO"));
    assertEquals(List.of("LPAD"), FunctionSuggestions.closest("LPADD"));
    assertEquals(List.of("TO_CHAR"), FunctionSuggestions.closest("TO_CHARS"));
    assertEquals(List.of("TRANSLATE"), FunctionSuggestions.closest("TRANSLAT"));
    assertEquals(List.of(), FunctionSuggestions.closest("XYZZYQ"));
  }

  @Test void theMessageOfAnUnknownFunctionNamesThem() {
    assertEquals("No match found for function signature FOO(<NUMERIC>); did you mean FLOOR?",
        FunctionSuggestions.amend("No match found for function signature FOO(<NUMERIC>)"));
    // a known function with arguments it does not take: nothing to suggest
    assertEquals("No match found for function signature LPAD(<NUMERIC>)",
        FunctionSuggestions.amend("No match found for function signature LPAD(<NUMERIC>)"));
    assertEquals("Column 'X' not found", FunctionSuggestions.amend("Column 'X' not found"));
  }

  @Test void distanceIsLevenshtein() {
    assertEquals(2, FunctionSuggestions.distance("FOO", "FLOOR"));
    assertEquals(3, FunctionSuggestions.distance("KITTEN", "SITTING"));
    assertEquals(0, FunctionSuggestions.distance("", ""));
  }
}
