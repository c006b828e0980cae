// The analysis half of the storage table (ABI 1.4): results per file and
// inference plugin, claims for analysis, and the calibration definition.
// Kept apart from storage_table.cc, which holds libraries, files, tags
// and reconciliation claims; see nomtag/storage.h for each function's
// contract.
#ifndef NOMTAG_PLUGINS_STORAGE_SQL_COMMON_ANALYSIS_STORE_H_
#define NOMTAG_PLUGINS_STORAGE_SQL_COMMON_ANALYSIS_STORE_H_

#include <nomtag/storage.h>

namespace nomtag::sqlstore {

nomtag_status AnalysisClaimBatch(nomtag_storage_db* db, int64_t library_id,
                                 const nomtag_analysis_key* key,
                                 int64_t force_since_ms, const char* worker,
                                 uint32_t batch, int64_t lease_ms,
                                 int64_t now_ms, const nomtag_claim_sink* sink,
                                 nomtag_error* err);
nomtag_status AnalysisDueList(nomtag_storage_db* db, int64_t library_id,
                              const nomtag_analysis_key* key,
                              int64_t force_since_ms,
                              const nomtag_file_sink* sink, nomtag_error* err);
nomtag_status AnalysisRecord(nomtag_storage_db* db, int64_t file_id,
                             int64_t claim_token,
                             const nomtag_analysis_key* key,
                             const nomtag_analysis_result* result,
                             int64_t now_ms, int32_t* out_recorded,
                             nomtag_error* err);
nomtag_status AnalysisRelease(nomtag_storage_db* db, int64_t file_id,
                              int64_t claim_token,
                              const nomtag_analysis_key* key,
                              nomtag_error* err);
nomtag_status AnalysisGet(nomtag_storage_db* db, int64_t library_id,
                          int64_t file_id, const nomtag_analysis_sink* sink,
                          nomtag_error* err);
nomtag_status AnalysisStatus(nomtag_storage_db* db, int64_t library_id,
                             const nomtag_analysis_key* key, int64_t lease_ms,
                             int64_t now_ms, nomtag_analysis_status* out,
                             nomtag_error* err);
nomtag_status AnalysisFailureList(nomtag_storage_db* db, int64_t library_id,
                                  const nomtag_analysis_key* key,
                                  const nomtag_failure_sink* sink,
                                  nomtag_error* err);
nomtag_status CalibrationDefinition(nomtag_storage_db* db,
                                    const nomtag_text_sink* sink,
                                    nomtag_error* err);

}  // namespace nomtag::sqlstore

#endif  // NOMTAG_PLUGINS_STORAGE_SQL_COMMON_ANALYSIS_STORE_H_
