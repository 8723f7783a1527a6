namespace Folio.Cuda.Tests;

/// <summary>The header is the spec: the C# bindings must agree with folio_cuda.h in every function, enum, struct,
/// struct layout and version constant, and a difference must be reported naming what drifted.</summary>
public sealed class HeaderDriftTests
{
    private static readonly CAbi Header = HeaderModel.Read();

    [Fact]
    public void HeaderIsReadWhole()
    {
        Assert.True(Header.Functions.Count >= 19, $"only {Header.Functions.Count} functions read");
        Assert.Contains("folio_kv_write", Header.Functions.Keys);
        Assert.Equal(["ptr(folio_cuda_paged_kv)", "ptr(folio_cuda_kv_write_params)", "ptr(void)"], Header.Functions["folio_kv_write"].Parameters);
        Assert.Contains(("slot_mapping", "ptr(i64)"), Header.Structs["folio_cuda_kv_write_params"]);
        Assert.Contains(("cache_ptrs", "ptr(u64)"), Header.Structs["folio_cuda_block_move_params"]);
        Assert.Equal(["ptr(ptr(void))"], Header.Functions["folio_cuda_stream_create"].Parameters);
        Assert.Equal("ptr(char)", Header.Functions["folio_cuda_last_error"].Return);
        Assert.Equal(0, Header.Enums["folio_cuda_status"]["FOLIO_CUDA_STATUS_OK"]);
        Assert.Equal(2, Header.Macros["FOLIO_CUDA_VERSION_MAJOR"]);
    }

    [Fact]
    public void ErrorStatusesAreNegativeAsInFolioH()
    {
        // One convention across both headers: 0 is success, every error negative, and a failure both headers
        // name has the same value in each.
        foreach (var (name, value) in Header.Enums["folio_cuda_status"])
            Assert.True(name == "FOLIO_CUDA_STATUS_OK" ? value == 0 : value < 0, $"{name} = {value}");
        string folioH = HeaderModel.ReadText(Path.Combine(HeaderModel.RepositoryRoot, "native", "include", "folio.h"));
        foreach (string shared in new[] { "INVALID_ARGUMENT", "STRUCT_SIZE", "UNSUPPORTED" })
        {
            var m = System.Text.RegularExpressions.Regex.Match(folioH, $@"FOLIO_STATUS_{shared} = (-?\d+)");
            Assert.True(m.Success, $"folio.h has no FOLIO_STATUS_{shared}");
            Assert.Equal(long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
                Header.Enums["folio_cuda_status"]["FOLIO_CUDA_STATUS_" + shared]);
        }
    }

    [Fact]
    public void BindingsMatchTheHeader()
    {
        var problems = CAbi.Diff(Header, BindingModel.Read());
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Theory]
    [InlineData("    int64_t key_token_stride;", "    int32_t key_token_stride;", "struct folio_cuda_kv_write_params")]
    [InlineData("    const int64_t* slot_mapping;\n} folio_cuda_kv_write_params;", "    const int32_t* slot_mapping;\n} folio_cuda_kv_write_params;", "struct folio_cuda_kv_write_params")]
    [InlineData("    int32_t kernel;", "    int64_t kernel;", "struct folio_cuda_paged_prefill_params")]
    [InlineData("FOLIO_CUDA_PREFILL_KERNEL_AUTO = 0", "FOLIO_CUDA_PREFILL_KERNEL_AUTO = 1", "enum folio_cuda_prefill_kernel")]
    [InlineData("FOLIO_CUDA_STATUS_UNSUPPORTED = -11", "FOLIO_CUDA_STATUS_UNSUPPORTED = 2", "enum folio_cuda_status")]
    [InlineData("FOLIO_CUDA_API int32_t folio_cuda_free(void* ptr);", "", "function folio_cuda_free")]
    [InlineData("folio_block_swap_in(\n    const folio_cuda_paged_kv* cache, const folio_cuda_block_move_params* params, void* stream);", "folio_block_swap_in(\n    const folio_cuda_paged_kv* cache, const folio_cuda_block_move_params* params);", "function folio_block_swap_in")]
    [InlineData("#define FOLIO_CUDA_VERSION_MAJOR 2", "#define FOLIO_CUDA_VERSION_MAJOR 3", "constant FOLIO_CUDA_VERSION_MAJOR")]
    [InlineData("#define FOLIO_CUDA_MAX_LOGPROBS 20", "#define FOLIO_CUDA_MAX_LOGPROBS 32", "constant FOLIO_CUDA_MAX_LOGPROBS")]
    [InlineData("    int64_t k_token_stride;", "    int32_t k_token_stride;", "struct folio_cuda_rope_kv_write_params")]
    [InlineData("    int32_t num_blocks;\n    int32_t block_size;", "    int32_t block_size;\n    int32_t num_blocks;", "struct folio_cuda_paged_kv")]
    [InlineData("    int32_t num_logprobs; ", "    int32_t num_logprobs; int32_t pad; ", "struct layout folio_cuda_sample_params")]
    [InlineData("FOLIO_CUDA_ROPE_SCALING_LLAMA3 = 1", "FOLIO_CUDA_ROPE_SCALING_LLAMA3 = 3", "enum folio_cuda_rope_scaling")]
    public void HeaderDriftIsDetected(string original, string mutated, string expected)
    {
        string text = HeaderModel.ReadText();
        original = original.Replace("\\n", "\n", StringComparison.Ordinal);
        mutated = mutated.Replace("\\n", "\n", StringComparison.Ordinal);
        Assert.Contains(original, text, StringComparison.Ordinal);
        var problems = CAbi.Diff(HeaderModel.Parse(text.Replace(original, mutated, StringComparison.Ordinal)), BindingModel.Read());
        Assert.Contains(problems, p => p.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void BindingDriftIsDetected()
    {
        // The C# side read by reflection cannot be edited in a test: drift it in the model instead.
        var bindings = BindingModel.Read();
        var (ret, parameters) = bindings.Functions["folio_paged_prefill"];
        parameters[1] = "ptr(folio_cuda_paged_attention_decode_params)";
        bindings.Functions["folio_paged_prefill"] = (ret, parameters);
        bindings.Enums["folio_cuda_kv_layout"]["FOLIO_CUDA_KV_LAYOUT_HND"] = 2;
        var problems = CAbi.Diff(Header, bindings);
        Assert.Contains(problems, p => p.StartsWith("function folio_paged_prefill:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("enum folio_cuda_kv_layout:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("typedef struct folio_cuda_x { uint32_t struct_size; int32_t a[4]; } folio_cuda_x;", "arrays")]
    [InlineData("FOLIO_CUDA_API int32_t folio_x(long n);", "outside the header's C subset")]
    [InlineData("FOLIO_CUDA_API int32_t folio_x(folio_cuda_dtype d);", "outside the header's C subset")]
    public void DeclarationsOutsideTheSubsetAreRefused(string declaration, string message)
    {
        string text = HeaderModel.ReadText().Replace("#endif /* FOLIO_CUDA_H */", declaration + "\n#endif", StringComparison.Ordinal);
        var e = Assert.Throws<FormatException>(() => HeaderModel.Parse(text));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("FolioCudaPagedKv", "folio_cuda_paged_kv")]
    [InlineData("KCache", "k_cache")]
    [InlineData("F16", "f16")]
    [InlineData("NumKvHeads", "num_kv_heads")]
    [InlineData("CudaError", "cuda_error")]
    public void SnakeCaseMapping(string pascal, string snake) => Assert.Equal(snake, BindingModel.Snake(pascal));
}
