/* test_chat_template.c: folio_engine_apply_chat_template (ABI 1.3) on a model folder whose tokenizer_config.json
 * carries a chat template: exact rendered bytes (hand-derived from the template), the size query, optional tools
 * and options, and each bad input's status; a model without a template is UNSUPPORTED.
 * argv[1]: a model folder without a template (tests/fixtures/hf/llama3_rope); its files are linked into a
 * temporary folder that gets the tokenizer_config.json. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "folio.h"

/* A template with every input kind; single quotes only, so the JSON below needs no escaping inside it. */
static const char* k_config =
    "{\"bos_token\": \"<s>\", \"chat_template\": \"{{ bos_token }}{% for m in messages %}"
    "{% if m.role == 'bad' %}{{ raise_exception('bad role: ' ~ m.content) }}{% endif %}"
    "[{{ m.role }}]{{ m.content }}{% endfor %}{% if tools %}(tools:{{ tools | length }}){% endif %}"
    "{% if documents %}(docs:{{ documents | length }}){% endif %}{% if mood is defined %}(mood:{{ mood }}){% endif %}"
    "{% if add_generation_prompt %}[assistant]{% endif %}\"}";

static folio_engine* open_engine(const char* model) {
    folio_engine_params p;
    p.struct_size = sizeof p;
    folio_engine_params_init(&p);
    p.model = model;
    p.model_len = strlen(model);
    p.num_gpu_blocks = 16;
    folio_engine* e = NULL;
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_OK);
    return e;
}

/* Renders with the size query (NULL first, then an exact buffer); returns the status of the first call that
 * is not BUFFER_TOO_SMALL and leaves the text in out (size 4096). */
static int32_t render(folio_engine* e, const char* messages, const char* tools, const char* options, char* out) {
    uint64_t len = 0;
    int32_t s = folio_engine_apply_chat_template(e, messages, strlen(messages), tools, tools ? strlen(tools) : 0,
                                                 options, options ? strlen(options) : 0, NULL, 0, &len);
    if (s != FOLIO_STATUS_BUFFER_TOO_SMALL) return s;
    if (len + 1 > 4096) return FOLIO_STATUS_INTERNAL;
    memset(out, 'X', 4096);
    uint64_t len2 = 0;
    s = folio_engine_apply_chat_template(e, messages, strlen(messages), tools, tools ? strlen(tools) : 0, options,
                                         options ? strlen(options) : 0, out, len + 1, &len2);
    EXPECT_TRUE(s != FOLIO_STATUS_OK || (len2 == len && out[len] == '\0' && strlen(out) == len));
    return s;
}

static void test_renders(folio_engine* e) {
    char out[4096];
    const char* messages = "[{\"role\": \"user\", \"content\": \"Hi \\u00e9 \\ud83d\\udc4b\"}, "
                           "{\"role\": \"assistant\", \"content\": \"Yo\"}]";
    EXPECT(render(e, messages, NULL, NULL, out), FOLIO_STATUS_OK);
    EXPECT_TRUE(strcmp(out, "<s>[user]Hi \xc3\xa9 \xf0\x9f\x91\x8b[assistant]Yo") == 0);
    EXPECT(render(e, messages, "[{\"name\": \"a\"}, {\"name\": \"b\"}]",
                  "{\"add_generation_prompt\": true, \"documents\": [{\"text\": \"d\"}], \"mood\": \"calm\"}", out),
           FOLIO_STATUS_OK);
    EXPECT_TRUE(strcmp(out, "<s>[user]Hi \xc3\xa9 \xf0\x9f\x91\x8b[assistant]Yo(tools:2)(docs:1)(mood:calm)[assistant]") == 0);
    EXPECT(render(e, "[]", "null", "{}", out), FOLIO_STATUS_OK);
    EXPECT_TRUE(strcmp(out, "<s>") == 0);

    /* Size query details: capacity == length leaves no room for the NUL; the count is always written. */
    uint64_t len = 0;
    char small[4];
    EXPECT(folio_engine_apply_chat_template(e, "[]", 2, NULL, 0, NULL, 0, small, 3, &len),
           FOLIO_STATUS_BUFFER_TOO_SMALL);
    EXPECT_TRUE(len == 3);
    EXPECT(folio_engine_apply_chat_template(e, "[]", 2, NULL, 0, NULL, 0, small, 4, &len), FOLIO_STATUS_OK);
    EXPECT_TRUE(len == 3 && strcmp(small, "<s>") == 0);
}

static void test_bad_input(folio_engine* e) {
    char out[4096];
    uint64_t len = 0;
    EXPECT(render(e, "[{\"role\": ", NULL, NULL, out), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(strstr(folio_last_error(), "messages") != NULL);
    EXPECT(render(e, "{\"role\": \"user\"}", NULL, NULL, out), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(strstr(folio_last_error(), "list") != NULL);
    EXPECT(render(e, "[]", "[1,", NULL, out), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(strstr(folio_last_error(), "tools") != NULL);
    EXPECT(render(e, "[]", NULL, "[true]", out), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(strstr(folio_last_error(), "options") != NULL);
    EXPECT(render(e, "[{\"role\": \"bad\", \"content\": \"x\"}]", NULL, NULL, out), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT_TRUE(strstr(folio_last_error(), "bad role: x") != NULL);
    EXPECT(render(e, "[{\"role\": \"user\", \"content\": \"\xff\"}]", NULL, NULL, out), FOLIO_STATUS_INVALID_UTF8);
    EXPECT(folio_engine_apply_chat_template(e, NULL, 2, NULL, 0, NULL, 0, NULL, 0, &len), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_apply_chat_template(e, "[]", 2, NULL, 0, NULL, 0, NULL, 0, NULL), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_apply_chat_template(e, "[]", 2, NULL, 0, NULL, 0, NULL, 5, &len), FOLIO_STATUS_INVALID_ARGUMENT);
    EXPECT(folio_engine_apply_chat_template(NULL, "[]", 2, NULL, 0, NULL, 0, NULL, 0, &len), FOLIO_STATUS_INVALID_HANDLE);
    /* Still serving after each. */
    EXPECT(render(e, "[]", NULL, "{\"add_generation_prompt\": true}", out), FOLIO_STATUS_OK);
    EXPECT_TRUE(strcmp(out, "<s>[assistant]") == 0);
}

int main(int argc, char** argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_chat_template MODEL_FOLDER\n");
        return 2;
    }
    /* A built-in model has no template. */
    folio_engine* fake = open_engine("builtin:fake");
    uint64_t len = 0;
    EXPECT(folio_engine_apply_chat_template(fake, "[]", 2, NULL, 0, NULL, 0, NULL, 0, &len), FOLIO_STATUS_UNSUPPORTED);
    EXPECT_TRUE(strstr(folio_last_error(), "no chat template") != NULL);
    folio_engine_destroy(fake);

    char fixture[4096];
    if (realpath(argv[1], fixture) == NULL) {
        fprintf(stderr, "no such folder: %s\n", argv[1]);
        return 2;
    }
    char dir[] = "/tmp/folio-chat-XXXXXX";
    if (mkdtemp(dir) == NULL) return 1;
    char src[4200], dst[1024];
    const char* files[] = {"config.json", "model.safetensors"};
    for (int i = 0; i < 2; i++) {
        snprintf(src, sizeof src, "%s/%s", fixture, files[i]);
        snprintf(dst, sizeof dst, "%s/%s", dir, files[i]);
        EXPECT_TRUE(symlink(src, dst) == 0);
    }
    snprintf(dst, sizeof dst, "%s/tokenizer_config.json", dir);
    FILE* f = fopen(dst, "w");
    fputs(k_config, f);
    fclose(f);
    folio_engine* e = open_engine(dir);
    if (e != NULL) {
        test_renders(e);
        test_bad_input(e);
        folio_engine_destroy(e);
    }
    for (int i = 0; i < 2; i++) {
        snprintf(dst, sizeof dst, "%s/%s", dir, files[i]);
        unlink(dst);
    }
    snprintf(dst, sizeof dst, "%s/tokenizer_config.json", dir);
    unlink(dst);
    rmdir(dir);
    return check_report("chat_template");
}
