"""Comparing a quiz answer: what is ignored and what is kept."""



def test_quiz_answers_keep_the_symbols_of_arithmetic():
    from lessons.quiz import normalise_answer

    assert normalise_answer("SYN-ACK.") == normalise_answer("syn ack") == "synack"
    assert normalise_answer("2^16-1") != normalise_answer("2161")
    assert normalise_answer(" 2^16 - 1 ") == normalise_answer("2^16-1")
