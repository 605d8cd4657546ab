# --list names every preset with its nominal bpw.
requant --list > list.txt
for p in Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q2_K_S Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M \
         Q6_K IQ1_S IQ1_M IQ2_XXS IQ2_XS IQ2_S IQ2_M IQ3_XXS IQ3_XS IQ3_S IQ3_M IQ4_NL IQ4_XS \
         TQ1_0 TQ2_0 MXFP4_MOE F16 BF16 F32 Q1_0; do
    grep -q "^$p " list.txt || { echo "missing $p" >&2; exit 1; }
done
grep -q '^Q4_K_M  *4\.50 ' list.txt
grep -q '^Q8_0  *8\.50 ' list.txt
grep -q '^Q1_0  *1\.12  *40 ' list.txt
