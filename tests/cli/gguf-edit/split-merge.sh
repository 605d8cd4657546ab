# Split and merge are byte-identical to llama-gguf-split (ec562eb).
. "$SRC/tests/cli/gguf-edit/_common.inc"
mkdir s1 s2 s3 s4

# llama-gguf-split --split --split-max-tensors 20 REF s1/ref
gguf-edit -q "$REF" s1/ref --split-max-tensors 20
expect_digest s1/ref-00001-of-00004.gguf f953c2d8c6d7d1f6
expect_digest s1/ref-00002-of-00004.gguf a3eff67f0cf1cb49
expect_digest s1/ref-00003-of-00004.gguf 7b7f17eac5c3c57e
expect_digest s1/ref-00004-of-00004.gguf 44a75b2b30ab5042

# llama-gguf-split --split --split-max-size 3M REF s2/ref (M = 10^6 bytes)
gguf-edit -q "$REF" s2/ref --split-max-size 3M
expect_digest s2/ref-00001-of-00004.gguf f135691e5b9b94f7
expect_digest s2/ref-00002-of-00004.gguf 9dbc2e5df4c9b148
expect_digest s2/ref-00003-of-00004.gguf 171bbe0681a98af4
expect_digest s2/ref-00004-of-00004.gguf c7244987ce54da71

# llama-gguf-split --split --split-max-tensors 30 --no-tensor-first-split REF s3/ref
gguf-edit -q "$REF" s3/ref --split-max-tensors 30 --no-tensor-first-split
expect_digest s3/ref-00001-of-00004.gguf 86a70c2b7ccd0391
expect_digest s3/ref-00002-of-00004.gguf 999f4827ade8cf86
expect_digest s3/ref-00003-of-00004.gguf ab375adbca840f29
expect_digest s3/ref-00004-of-00004.gguf 44a75b2b30ab5042

# llama-gguf-split --merge s1/ref-00001-of-00004.gguf merged.gguf (any shard opens the set)
gguf-edit -q --merge s1/ref-00003-of-00004.gguf merged.gguf
expect_digest merged.gguf a15eda0c91708f90
# to stdout, and without --merge (a set into one OUTPUT is a merge)
gguf-edit -q s1/ref-00001-of-00004.gguf - >stdout.gguf
expect_digest stdout.gguf a15eda0c91708f90

# llama-gguf-split --split --split-max-size 1M TYPES s4/types, TYPES being
# metadata.sh's types.gguf: 11 files, a tensor larger than 1M alone in one
printf '["a", "b,c"]' >strs.json
gguf-edit -q -f "$REF" types.gguf --set llama.context_length=u32:4096 \
    --set general.file_type=u64:1 --set test.u8=u8:200 --set test.i8=i8:-5 \
    --set test.u16=u16:60000 --set test.i16=i16:-300 --set test.u32=u32:4000000000 \
    --set test.i32=i32:-2000000000 --set test.u64=u64:18446744073709551615 \
    --set test.i64=i64:-9223372036854775808 --set test.f32=f32:0.1 --set test.f64=f64:0.1 \
    --set test.bool=bool:true --set 'test.str=str:héllo' --set-array test.strs=str:@strs.json \
    --set-array test.ints=i32:1,2,3 --add-bos --no-add-eos
gguf-edit -q types.gguf s4/types --split-max-size 1M
set -- s4/*
[ $# = 11 ] || fail "s4: $# files, expected 11"
i=0
for d in 90c91783eff1df48 96e23a09823c0949 47351a2cba87d817 a1a9c6e8e5365493 62bf781b0a30d884 \
    f5c1ddd8e204f7da f76796d6393bd8a0 ca1712308c74207d a011ac347fa9eecf 4c7cfe677944cde5 \
    49c9017e8e86fe99; do
    i=$((i + 1))
    expect_digest "$(printf 's4/types-%05d-of-00011.gguf' $i)" $d
done

# a set of one: llama-gguf-split --split --split-max-tensors 100 REF one/x,
# then --merge one/x-00001-of-00001.gguf (split.count moves last, as 0)
mkdir one
gguf-edit -q "$REF" one/x --split-max-tensors 100
expect_digest one/x-00001-of-00001.gguf 9a15728ce91e3ff6
gguf-edit -q --merge one/x-00001-of-00001.gguf one/merged.gguf
expect_digest one/merged.gguf a15eda0c91708f90
