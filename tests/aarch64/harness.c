/* Runs fusejit kernels compiled for aarch64 (tests/aarch64.rs): reads cases from a job
 * file, calls each case's kernel on its argument block, writes the result regions.
 *
 * Job file, little-endian u64 words:
 *   case_count, then per case:
 *     kernel_index
 *     region_count, then per region: byte_length, the bytes padded to a multiple of 8
 *     word_count, then per word: tag (0 value, 1 address), a, b
 *       (a value word is `a`; an address word is region `a` plus byte offset `b`)
 *     output_values_region, output_bitmap_region
 * Output file, per case: for the values region then the bitmap region, byte_length and the
 * bytes (unpadded).
 *
 * Everything a kernel computes comes from the object: the harness only moves bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*kernel_fn)(const uint64_t *);
extern const kernel_fn fusejit_kernels[];
extern const uint64_t fusejit_kernel_count;

static FILE *input;

static uint64_t next_word(void) {
    uint64_t word;
    if (fread(&word, sizeof word, 1, input) != 1) {
        fprintf(stderr, "harness: job file is truncated\n");
        exit(2);
    }
    return word;
}

static void *checked_calloc(uint64_t count, uint64_t size) {
    /* One spare element so that a zero-length region still has a unique address. */
    void *memory = calloc(count + 1, size);
    if (memory == NULL) {
        fprintf(stderr, "harness: out of memory\n");
        exit(2);
    }
    return memory;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: harness JOB OUT\n");
        return 2;
    }
    input = fopen(argv[1], "rb");
    FILE *output = fopen(argv[2], "wb");
    if (input == NULL || output == NULL) {
        fprintf(stderr, "harness: cannot open files\n");
        return 2;
    }
    uint64_t cases = next_word();
    for (uint64_t c = 0; c < cases; c++) {
        uint64_t kernel = next_word();
        if (kernel >= fusejit_kernel_count) {
            fprintf(stderr, "harness: no kernel %llu\n", (unsigned long long)kernel);
            return 2;
        }
        uint64_t region_count = next_word();
        uint64_t *lengths = checked_calloc(region_count, sizeof(uint64_t));
        unsigned char **regions = checked_calloc(region_count, sizeof(unsigned char *));
        for (uint64_t r = 0; r < region_count; r++) {
            lengths[r] = next_word();
            uint64_t padded = (lengths[r] + 7) / 8;
            /* calloc gives 16-byte alignment on aarch64 glibc, as Rust's allocations have. */
            regions[r] = checked_calloc(padded, 8);
            if (padded > 0 && fread(regions[r], 8, padded, input) != padded) {
                fprintf(stderr, "harness: region %llu is truncated\n", (unsigned long long)r);
                return 2;
            }
        }
        uint64_t word_count = next_word();
        uint64_t *words = checked_calloc(word_count, sizeof(uint64_t));
        for (uint64_t w = 0; w < word_count; w++) {
            uint64_t tag = next_word(), a = next_word(), b = next_word();
            if (tag == 1 && (a >= region_count || b > (lengths[a] + 7) / 8 * 8)) {
                fprintf(stderr, "harness: address outside its region\n");
                return 2;
            }
            words[w] = tag == 1 ? (uint64_t)(uintptr_t)(regions[a] + b) : a;
        }
        uint64_t results[2] = {next_word(), next_word()};
        fusejit_kernels[kernel](words);
        for (int i = 0; i < 2; i++) {
            uint64_t r = results[i];
            if (r >= region_count) {
                fprintf(stderr, "harness: no result region %llu\n", (unsigned long long)r);
                return 2;
            }
            fwrite(&lengths[r], sizeof(uint64_t), 1, output);
            fwrite(regions[r], 1, lengths[r], output);
        }
        for (uint64_t r = 0; r < region_count; r++) free(regions[r]);
        free(regions);
        free(lengths);
        free(words);
    }
    fclose(input);
    return fclose(output) == 0 ? 0 : 1;
}
