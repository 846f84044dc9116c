using ReviewOrleans.Sentiment.Evaluation;

namespace ReviewOrleans.Sentiment.Tests;

public sealed class LabeledReviewFileTests
{
    [Fact]
    public void Read_ReviewJsonl_StarRatingIsLabelAndUnlabelledRowsSkipped()
    {
        const string jsonl = """
            {"review_id":"r1","product_category":"Apparel","star_rating":5,"review_body":"Love it"}
            {"review_id":"r2","product_category":"Shoes","star_rating":"2","review_headline":"Meh","review_body":"Too narrow"}

            {"review_id":"r3","product_category":"Shoes","review_body":"no label"}
            {"review_id":"r4","product_category":"Shoes","star_rating":9,"review_body":"out of range"}
            """;
        var (texts, skipped) = LabeledReviewFile.Read(new StringReader(jsonl), "reviews.jsonl");
        Assert.Equal(2, skipped);
        Assert.Equal(2, texts.Count);
        Assert.Equal((5, true, "Apparel", "Love it"), (texts[0].Stars, texts[0].Positive!.Value, texts[0].Category, texts[0].Text));
        Assert.Equal((2, false, "Shoes", "Meh. Too narrow"), (texts[1].Stars, texts[1].Positive!.Value, texts[1].Category, texts[1].Text));
    }

    [Fact]
    public void Read_AmazonTsv_ColumnsByHeaderAndLineBreakTagsRemoved()
    {
        const string tsv = "marketplace\tcustomer_id\treview_id\tproduct_id\tproduct_parent\tproduct_title\tproduct_category\tstar_rating\thelpful_votes\ttotal_votes\tvine\tverified_purchase\treview_headline\treview_body\treview_date\n" +
                           "US\t1\tR1\tP1\t1\tWidget\tToys\t3\t0\t0\tN\tY\tOkay\tFine.<br />Nothing more\t2015-08-31\n";
        var (texts, skipped) = LabeledReviewFile.Read(new StringReader(tsv), "amazon.tsv");
        Assert.Equal(0, skipped);
        var t = Assert.Single(texts);
        Assert.Equal((3, "Toys", "Okay. Fine. Nothing more"), (t.Stars, t.Category, t.Text));
        Assert.Null(t.Positive);
    }

    [Fact]
    public void Read_TsvWithoutStarRatingColumn_NamesTheColumn()
    {
        var ex = Assert.Throws<InvalidDataException>(() => LabeledReviewFile.Read(new StringReader("a\tb\n1\t2\n"), "x.tsv"));
        Assert.Contains("'star_rating'", ex.Message);
    }

    [Fact]
    public void Read_BrokenJsonLine_NamesFileAndLine()
    {
        var ex = Assert.Throws<InvalidDataException>(() => LabeledReviewFile.Read(new StringReader("{\"star_rating\":5,\"review_body\":\"ok\"}\n{broken"), "r.jsonl"));
        Assert.Contains("r.jsonl:2", ex.Message);
    }
}
